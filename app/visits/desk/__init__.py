"""The front desk: check-in and check-out, the on-site roll call, invitation letters, and the
visitors' feedback after the experiment."""
