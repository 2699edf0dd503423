from flask import Blueprint

bp = Blueprint("guesthouse", __name__, template_folder="templates")
