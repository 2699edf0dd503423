import pytest
from sqlalchemy import func, select

from app.accounts import queries, services
from app.accounts.events import InstitutionsMerged
from app.accounts.models import CountryGroup, Institution, InstitutionKind, Role
from app.accounts.services.reference import InstitutionInput
from app.core import events
from app.core.errors import PermissionDenied, ValidationFailed
from app.core.models import AuditEntry
from app.extensions import db
from tests.factories import make_country_group, make_institution, make_user


@pytest.fixture
def staff():
    return make_user(roles=[Role.USER_OFFICE])


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_staff_create_an_institution_with_a_ror_id(staff):
    institution = services.create_institution(
        InstitutionInput("ETH Zurich", "university", "ch", ror_id="https://ror.org/05a28rw58"), actor=staff
    )
    assert (institution.country_code, institution.ror_id) == ("CH", "05a28rw58")
    assert institution.reviewed_at is not None


def test_international_organisations_need_no_country(staff):
    institution = services.create_institution(InstitutionInput("EMBL", "international_organisation"), actor=staff)
    assert institution.country_code is None


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        (InstitutionInput("Lab", "university", None), "country_code", "institution_needs_country"),
        (InstitutionInput("Lab", "company", "XX"), "country_code", "country_unknown"),
        (InstitutionInput("Lab", "university", "FR", ror_id="01ggx4158"), "ror_id", "ror_invalid"),
        (InstitutionInput("Lab", "university", "FR", ror_id="0abc"), "ror_id", "ror_invalid"),
        (InstitutionInput("", "university", "FR"), "name", "required"),
        (InstitutionInput("Lab", "castle", "FR"), "kind", "invalid_value"),
        (InstitutionInput("Lab", "university", "FR", parent_id=999_999), "parent_id", "institution_parent_unknown"),
    ],
)
def test_bad_institutions_are_refused_and_nothing_is_stored(staff, data, field, code):
    db.session.commit()
    before = _count(Institution)
    with pytest.raises(ValidationFailed) as info:
        services.create_institution(data, actor=staff)
    assert (info.value.field, info.value.code) == (field, code)
    assert _count(Institution) == before


def test_the_database_refuses_an_institution_without_country_too(staff):
    from sqlalchemy.exc import IntegrityError

    db.session.add(Institution(name="Raw", kind=InstitutionKind.UNIVERSITY, country_code=None))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_plain_users_cannot_manage_reference_data():
    user = make_user()
    db.session.commit()
    with pytest.raises(PermissionDenied):
        services.create_institution(InstitutionInput("Lab", "university", "FR"), actor=user)
    with pytest.raises(PermissionDenied):
        services.create_country_group("Members", ["FR"], actor=user)


def test_a_sub_unit_cannot_contain_its_parent(staff):
    parent = make_institution(name="CNRS")
    child = make_institution(name="CNRS lab", parent_id=parent.id)
    db.session.commit()
    with pytest.raises(ValidationFailed, match="institution_parent_cycle"):
        services.update_institution(
            parent.id, InstitutionInput("CNRS", "research_institute", "FR", child.id), actor=staff
        )


def test_merge_moves_people_and_units_publishes_and_audits(staff):
    survivor = make_institution(name="Université Grenoble Alpes", country_code="FR")
    duplicate = make_institution(name="Univ. Grenoble Alpes", country_code="FR", ror_id="02rx3b187")
    unit = make_institution(name="A lab", parent_id=duplicate.id)
    people = [make_user(institution_id=duplicate.id) for _ in range(3)]
    seen = []

    def remember(event):
        seen.append(event)

    events.subscribe(InstitutionsMerged, remember)
    try:
        services.merge_institutions(survivor.id, duplicate.id, actor=staff)
    finally:
        events.unsubscribe(InstitutionsMerged, remember)
    assert seen == [InstitutionsMerged(survivor_id=survivor.id, merged_id=duplicate.id)]
    assert db.session.get(Institution, duplicate.id) is None
    assert all(db.session.get(type(p), p.id).institution_id == survivor.id for p in people)
    assert db.session.get(Institution, unit.id).parent_id == survivor.id
    assert db.session.get(Institution, survivor.id).ror_id == "02rx3b187"
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "institution.merged")).one()
    assert entry.changes["people_moved"] == 3 and entry.object_id == str(survivor.id)


def test_merge_into_itself_is_refused(staff):
    institution = make_institution()
    db.session.commit()
    with pytest.raises(ValidationFailed, match="institution_merge_same"):
        services.merge_institutions(institution.id, institution.id, actor=staff)


def test_country_groups_validate_codes_and_names(staff):
    group = services.create_country_group("Members", ["ch", "FR", "XK"], actor=staff)
    db.session.commit()
    assert group.codes == ["CH", "FR", "XK"]
    before = _count(CountryGroup)
    with pytest.raises(ValidationFailed, match="country_unknown"):
        services.create_country_group("Associates", ["FR", "QQ"], actor=staff)
    with pytest.raises(ValidationFailed, match="country_group_name_taken"):
        services.create_country_group("members", ["FR"], actor=staff)
    assert _count(CountryGroup) == before
    services.update_country_group(group.id, "Members", ["DE"], actor=staff)
    assert db.session.get(CountryGroup, group.id).codes == ["DE"]
    services.delete_country_group(group.id, actor=staff)
    assert db.session.get(CountryGroup, group.id) is None


def test_country_list_filters_by_group():
    make_country_group("EU-ish", ("FR", "DE"))
    assert [c["code"] for c in queries.list_countries(group="eu-ish")] == ["FR", "DE"]
    assert len(queries.list_countries()) > 240
    with pytest.raises(ValidationFailed, match="country_group_unknown"):
        queries.list_countries(group="nope")


def test_institution_search_finds_by_name_and_ror():
    make_institution(name="Paul Scherrer Institute", country_code="CH", ror_id="03eh3y714")
    assert [i.name for i in queries.search_institutions("scherrer")] == ["Paul Scherrer Institute"]
    assert [i.name for i in queries.search_institutions("https://ror.org/03eh3y714")] == ["Paul Scherrer Institute"]
    assert queries.search_institutions("%") == []
