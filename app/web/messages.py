"""One translatable sentence per domain error code.

Services raise errors with a code and parameters; this is the only place that turns them
into words. A code without an entry falls back to a generic sentence (and a test lists
every code raised in the code base to make sure none is missing).
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from app.core.errors import DomainError

MESSAGES: dict[str, Any] = {
    "not_found": _l("That page or object does not exist, or you may not see it."),
    "permission_denied": _l("You are not allowed to do that."),
    "required": _l("This field is required."),
    "too_long": _l("This is too long (at most %(maximum)s characters)."),
    "invalid_value": _l("This value is not valid."),
    "email_invalid": _l("Enter a valid e-mail address."),
    "email_taken": _l("An account with this e-mail address already exists."),
    "password_too_short": _l("Use at least %(minimum)s characters."),
    "password_personal": _l("Do not use your name or e-mail address in your password."),
    "password_too_simple": _l("Use a password with more different characters."),
    "role_takes_no_scope": _l("The role %(role)s applies to the whole facility and takes no scope."),
    "role_needs_scope": _l("The role %(role)s needs a scope: choose the %(scope)s it applies to."),
    "role_already_granted": _l("This person already has the role %(role)s."),
    "role_not_granted": _l("This person does not have the role %(role)s."),
    "cannot_revoke_own_admin": _l("You cannot remove your own admin role."),
    "user_not_found": _l("No such person."),
    "token_not_found": _l("No such token."),
    "token_already_revoked": _l("This token was already revoked."),
    "job_not_found": _l("No such background job."),
    "job_kind_unknown": _l("Unknown kind of background job: %(kind)s."),
    "setting_unknown": _l("Unknown setting %(key)s."),
    "setting_wrong_type": _l("Enter a value of type %(expected)s."),
    "nul_character": _l("This field contains a character that cannot be stored (NUL): remove it and try again."),
    "setting_item_invalid": _l("“%(item)s” is not a valid entry here."),
    "setting_too_small": _l("The smallest allowed value is %(minimum)s."),
    "setting_too_large": _l("The largest allowed value is %(maximum)s."),
    "setting_not_a_choice": _l("Choose one of: %(choices)s."),
    "invalid_json": _l("The request body is not valid JSON."),
    "unauthorized": _l("A valid personal access token is required (Authorization: Bearer …)."),
    # --- accounts: registration, profile, institutions, country groups, privacy ---
    "password_common": _l("This password is among the first ones attackers try. Choose another."),
    "password_wrong": _l("This password is not right."),
    "login_failed": _l("E-mail or password is not right."),
    "email_not_verified": _l("Please confirm your e-mail address first: open the link we sent you."),
    "email_unchanged": _l("This is already your e-mail address."),
    "orcid_invalid": _l("This is not a valid ORCID iD (like 0000-0002-1825-0097; the last character is a checksum)."),
    "orcid_taken": _l("Another account already has this ORCID iD."),
    "privacy_not_accepted": _l("Please read and accept the privacy notice."),
    "institution_required": _l("Choose your institution, or propose it if it is not in the list."),
    "institution_unknown": _l("This institution is not in the list."),
    "institution_not_found": _l("No such institution."),
    "institution_needs_country": _l("Choose a country: only international organisations may have none."),
    "institution_parent_unknown": _l("There is no institution with this number."),
    "institution_parent_cycle": _l("An institution cannot be part of itself or of one of its own sub-units."),
    "institution_already_reviewed": _l("This institution was already reviewed."),
    "institution_merge_same": _l("Choose another institution: one cannot be merged into itself."),
    "institution_merge_target_unknown": _l("There is no institution with this number to merge into."),
    "country_unknown": _l("%(code)s is not a known country code."),
    "ror_invalid": _l("This is not a valid ROR id (0, six letters or digits, two check digits: like 05a28rw58)."),
    "ror_taken": _l("Another institution already has the ROR id %(ror)s."),
    "country_group_not_found": _l("No such country group."),
    "country_group_unknown": _l("There is no country group named %(name)s."),
    "country_group_name_taken": _l("A country group named %(name)s already exists."),
    "country_group_in_use": _l("This country group is still used by: %(uses)s."),
    "scope_unknown": _l("There is no %(scope)s with the number %(scope_id)s."),
    "link_invalid": _l("This link is not valid. Copy the whole link from the e-mail, or ask for a new one."),
    "link_expired": _l("This link has expired. Ask for a new one."),
    "link_used": _l("This link has already been used (or a newer one replaced it)."),
    "account_closed": _l("This account is closed."),
    "last_admin_cannot_close": _l("You are the only admin: grant the admin role to someone else first."),
    # --- facility: settings, instruments, cycles, calendar, bookings, capacity ---
    "facility_not_configured": _l("Set up the facility first (name, time zone, shift pattern)."),
    "timezone_unknown": _l("%(value)s is not a known time zone; use an IANA name such as Europe/Zurich."),
    "shift_pattern_format": _l(
        "%(value)s is not a time of day; write shift starts as HH:MM, e.g. 00:00, 08:00, 16:00."
    ),
    "shift_pattern_empty": _l("Give at least one shift start time."),
    "shift_pattern_order": _l("Shift start times must be different and in increasing order."),
    "shift_pattern_too_many": _l("At most %(maximum)s shifts a day."),
    "shift_pattern_locked": _l("The shift pattern cannot change once a cycle exists: every booking sits on it."),
    "timezone_locked": _l("The time zone cannot change once a cycle exists: every booking sits on the shift grid."),
    "percent_range": _l("Enter a percentage between 0 and 100."),
    "partitions_over_100": _l("The reserved partitions add up to %(total)s %%; together they may be at most 100 %%."),
    "year_invalid": _l("Enter a year such as 2027."),
    "share_range": _l("Enter a share above 0 and at most 100, with at most two decimals."),
    "contributions_over_100": _l(
        "The shares of %(year)s would exceed 100 %%: the other members already have %(others)s %%, "
        "so at most %(available)s %% is left."
    ),
    "contribution_not_found": _l("No such contribution."),
    "integer_range": _l("Enter a whole number from %(minimum)s to %(maximum)s."),
    "choose_at_least_one": _l("Choose at least one."),
    "instrument_code_format": _l("Use capital letters, digits, dots, dashes or underscores (at most 20), e.g. ID23-1."),
    "instrument_code_taken": _l("Another instrument already has the code %(code)s."),
    "instrument_not_found": _l("No such instrument."),
    "instrument_retired": _l("The instrument %(code)s is retired."),
    "cycle_not_found": _l("No such cycle."),
    "cycle_name_format": _l("Use letters, digits, dots, dashes or underscores (at most 20), e.g. 2027-I."),
    "cycle_name_taken": _l("A cycle named %(name)s already exists."),
    "cycle_dates_order": _l("The last day must not be before the first day."),
    "cycle_too_long": _l("A cycle lasts at most %(maximum)s days."),
    "cycle_overlap": _l("These dates overlap cycle %(other)s (%(starts)s to %(ends)s); cycles never overlap."),
    "mode_code_format": _l("Use lower-case letters, digits, dashes or underscores, e.g. multibunch."),
    "mode_code_taken": _l("An operating mode with the code %(code)s already exists."),
    "operating_mode_not_found": _l("No such operating mode."),
    "interval_order": _l("The end must be after the start."),
    "off_shift_grid": _l("Times must fall on the shift grid (shifts start at %(shifts)s, facility time)."),
    "outside_cycle": _l("This must lie inside cycle %(cycle)s (%(starts)s to %(ends)s)."),
    "in_past": _l("This would start in the past; the calendar's history cannot change."),
    "already_started": _l("This has already started; the calendar's history cannot change."),
    "downtime_overlap": _l("This overlaps %(other)s (%(starts)s to %(ends)s)."),
    "mode_period_overlap": _l("The machine already runs in %(other)s from %(starts)s to %(ends)s."),
    "block_kind": _l("Choose maintenance, in-house research or rapid access."),
    "booking_overlap": _l("The instrument is already booked then: %(other)s (%(starts)s to %(ends)s)."),
    # --- proposals ---
    "proposal_status_move": _l("A proposal cannot go from %(current)s to %(target)s."),
    "pdf_empty": _l("The file is empty. Choose the PDF of your science case."),
    "pdf_too_large": _l("The file is %(size_mb)s MB; the science case may be at most %(maximum_mb)s MB."),
    "pdf_wrong_type": _l(
        "This file is a %(kind)s file, not a PDF (whatever its name says). Export your science case as PDF."
    ),
    "pdf_not_pdf": _l("This file is not a PDF (whatever its name says). Export your science case as PDF."),
    "pdf_malformed": _l("This PDF is damaged and cannot be read. Export it again and upload the new file."),
    "pdf_encrypted": _l("This PDF is protected by a password. Upload a copy without a password."),
    "pdf_no_pages": _l("This PDF has no pages."),
    "pdf_too_many_pages": _l("The science case has %(pages)s pages; at most %(maximum)s are allowed."),
    "file_not_found": _l("That file does not exist."),
    "call_not_found": _l("No such call."),
    "proposal_not_found": _l("No such proposal, or you may not see it."),
    "cycle_unknown": _l("Choose a cycle."),
    "datetime_needs_zone": _l("Give a date and time."),
    "datetime_nonexistent": _l("This local time does not exist (the clocks change that night). Choose another."),
    "datetime_ambiguous": _l(
        "This local time happens twice (the clocks go back that night), so it names no single instant. "
        "Choose another time."
    ),
    "call_closes_before_opening": _l("The call must close after it opens."),
    "number_out_of_range": _l("Give a number from %(minimum)s to %(maximum)s."),
    "rapid_access_needs_cap": _l("A rapid-access call needs a cap on the shifts of one proposal."),
    "call_exists_for_route": _l("This cycle already has a call for this access route."),
    "call_needs_instruments": _l("Offer at least one instrument."),
    "instrument_unknown": _l("Choose an active instrument."),
    "instrument_twice": _l("The instrument %(instrument)s is offered twice."),
    "call_has_proposals": _l("Proposals were already submitted to this call: its cycle and route stay as they are."),
    "call_closed": _l("The call closed at %(closed_at)s. Your proposal is kept as it is."),
    "call_not_open": _l("The call opens at %(opens_at)s. Your draft is kept; submit it then."),
    "rapid_access_locked": _l(
        "A rapid-access proposal is reviewed as soon as it is submitted: it cannot be changed any more."
    ),
    "proposal_not_editable": _l("A proposal in the state %(status)s cannot be changed."),
    "proposal_not_draft": _l("A proposal in the state %(status)s cannot be submitted."),
    "proposal_incomplete": _l("Before you can submit, complete the %(count)s items listed. Your draft is saved."),
    "field_unknown": _l("Unknown field %(field)s."),
    "science_case_required_after_submission": _l(
        "A submitted proposal keeps its science case: upload a new PDF to replace it."
    ),
    "missing_title": _l("Give the proposal a title."),
    "missing_abstract": _l("Write the abstract."),
    "missing_subject_area": _l("Choose the subject area."),
    "missing_science_case": _l("Upload the science case (PDF)."),
    "missing_member_affiliation": _l("%(name)s has no institution in their profile yet."),
    "missing_requests": _l("Ask for beamtime on at least one instrument."),
    "missing_justification": _l("Justify the shifts asked for on %(instrument)s."),
    "missing_samples": _l("Describe at least one sample."),
    "missing_sample_hazards": _l("Declare the hazards of the sample %(sample)s (or none)."),
    "missing_risk_group": _l("Give the biological risk group of the sample %(sample)s."),
    "request_instrument_not_offered": _l("%(instrument)s is not offered in this call: remove its request."),
    "request_over_limit": _l("At most %(maximum)s shifts may be asked for on %(instrument)s."),
    "request_too_many_cycles": _l("The request on %(instrument)s may run over at most %(maximum)s cycles."),
    "request_mode_retired": _l("The operating mode %(mode)s asked for on %(instrument)s is no longer offered."),
    "proposal_over_cap": _l("The requests add up to %(total)s shifts; at most %(maximum)s are allowed in this call."),
    "instrument_not_offered": _l("Choose an instrument offered in this call."),
    "request_duplicate_instrument": _l("There is already a request for %(instrument)s: change that one."),
    "shifts_too_few": _l("Ask for at least one shift."),
    "shifts_over_limit": _l("At most %(maximum)s shifts may be asked for on %(instrument)s."),
    "shifts_over_cap": _l("This call allows %(maximum)s shifts per proposal; %(left)s are left."),
    "cycles_over_limit": _l("A request may run over at most %(maximum)s cycles in this call."),
    "operating_mode_unknown": _l("Choose an operating mode from the list."),
    "submitted_needs_request": _l("A submitted proposal keeps at least one request."),
    "submitted_needs_sample": _l("A submitted proposal keeps at least one sample."),
    "hazards_none_and_others": _l('"None" cannot be ticked together with a hazard.'),
    "risk_group_required": _l("Give the biological risk group (1 to 4)."),
    "dates_out_of_order": _l("The end is before the start."),
    "date_outside_cycle": _l("Choose dates inside the cycle (%(starts_on)s to %(ends_on)s)."),
    "dates_contradict": _l("These dates overlap dates of the other kind (preferred and unacceptable at once)."),
    "proposal_reference_unknown": _l("No proposal %(reference)s that you can see."),
    "proposal_link_itself": _l("A proposal cannot continue itself."),
    "proposal_already_linked": _l("%(reference)s is already linked."),
    "already_member": _l("This person is already on the team."),
    "already_invited": _l("This person has already been invited and has not answered yet."),
    "team_full": _l("A team has at most %(maximum)s people (invitations included)."),
    "invitation_revoked": _l("This invitation was withdrawn by the principal investigator."),
    "invitation_used": _l("This invitation has already been accepted."),
    "invitation_expired": _l(
        "This invitation expired at %(expired_at)s. Ask the principal investigator to invite you again."
    ),
    "invitation_wrong_person": _l(
        "This invitation was sent to %(email)s. Log in with that address, or ask for an invitation to yours."
    ),
    "not_a_member": _l("Choose a member of the team."),
    "already_pi": _l("This person is already the principal investigator."),
    "pi_cannot_leave": _l("The principal investigator hands the role over before leaving the team."),
    # --- reviews ---
    "call_still_open": _l("The call is still open until %(closes_at)s; its review starts once it closes."),
    "review_already_started": _l("The review of this call has already started."),
    "review_not_started": _l("The review of this call has not started yet."),
    "allocation_done": _l("The allocation has been run: grades and technical reviews can no longer change."),
    "choose_one": _l("Choose one of the options."),
    "subject_area_taken": _l("A subject area belongs to one panel; %(panel)s already reviews one of these."),
    "panel_name_taken": _l("Another panel already has this name."),
    "panel_not_found": _l("No such panel, or you may not see it."),
    "deputy_not_reviewer": _l("The deputy chair must be a reviewer of this panel."),
    "too_many_keywords": _l("Give at most %(maximum)s keywords, each under 60 characters."),
    "technical_review_not_found": _l("No such technical review, or you may not see it."),
    "proposal_not_in_review": _l("This proposal is not in review."),
    "assignment_not_found": _l("No such review assignment, or you may not see it."),
    "award_not_found": _l("No such award."),
    "not_a_panel_reviewer": _l("Choose a reviewer of this proposal's panel."),
    "proposal_has_no_panel": _l("This proposal goes to no panel (proprietary, or no panel covers its subject)."),
    "reviewer_conflicted": _l("This reviewer has a conflict of interest with the proposal (%(kinds)s)."),
    "reviewer_already_assigned": _l("This reviewer is already assigned to the proposal."),
    "assignment_not_open": _l("Only an assignment not yet graded can be removed."),
    "review_already_submitted": _l("The review has already been submitted."),
    "chair_conflicted": _l("You have a conflict of interest with this proposal: the deputy chair decides it."),
    "grade_range": _l("Enter a grade from 1 to 5."),
    "decisions_signed_off": _l("The decisions are signed off: the allocation can no longer be run again."),
    "awards_have_sessions": _l(
        "Some awards of this call already have sessions on the calendar: remove them before running the allocation again."
    ),
    "decisions_released": _l("The decisions have been released."),
    "allocation_not_run": _l("Run the allocation before signing the decisions off."),
    "award_withdrawn": _l("This award has been withdrawn."),
    "not_an_instrument_scientist": _l("The local contact must be a scientist of this instrument."),
    "long_term_cycles_unknown": _l(
        "The cycles after %(cycle)s cannot be named yet: create them before allocating long-term requests."
    ),
    # --- scheduling ---
    "slot_taken": _l(
        "Someone has just booked this time: %(other)s (%(starts)s to %(ends)s). Nothing was booked; "
        "choose another free window."
    ),
    "award_not_bookable": _l(
        "Only an accepted rapid-access award whose decision has been released can be booked directly."
    ),
    "award_exceeded": _l("This is more than the award has left: %(remaining)s of %(awarded)s shifts."),
    "not_in_rapid_slot": _l("Choose a time inside a rapid-access slot of %(code)s (see the free slots)."),
    "start_not_allowed": _l(
        "Experiments on %(code)s cannot start then: choose one of its allowed start shifts and weekdays."
    ),
    "schedule_stale": _l(
        "The calendar changed while the solver ran (a new booking collides with the schedule). "
        "Nothing was stored; solve again."
    ),
    # why an award was not fully placed (the solver's reason codes, docs/SOLVER.md)
    "unplaced_no_window": _l(
        "No free window on the instrument is long enough: %(needed)s shifts needed, the longest is %(longest)s."
    ),
    "unplaced_mode_unavailable": _l("The machine never runs in the required mode %(mode)s long enough."),
    "unplaced_unacceptable_dates": _l("Every window long enough falls in the team's unacceptable dates."),
    "unplaced_capacity_used": _l("The room left was used by %(awards)s higher-ranked awards (%(by)s)."),
    "unplaced_person_busy": _l("%(person)s (%(role)s) is in another session whenever a window is free."),
    "unplaced_split_limit": _l(
        "The award used its %(max_sessions)s session(s); what is left is below its minimum of %(min_session)s shifts."
    ),
    "unplaced_objective_tradeoff": _l("A session would fit, but splitting the award further costs more than it gains."),
    "in_shutdown": _l("This falls in the shutdown %(title)s (%(starts)s to %(ends)s): nothing is booked then."),
    # scheduling: calendars, iCal feeds, the schedule API
    "feed_not_found": _l("No such calendar feed."),
    "feed_already_revoked": _l("This calendar feed was already revoked."),
    "feeds_limit": _l("You have %(maximum)s calendar feeds already: revoke one you no longer use first."),
    "range_invalid": _l("The end must come after the start."),
    "range_too_long": _l("Ask for at most %(days)s days at a time."),
    "nothing_running": _l("Nothing is running on %(code)s now."),
    # schedule workflow (issue 7): solving from the web, drafts, the timeline, publishing, lifecycle
    "solve_running": _l("Cycle %(cycle)s is being solved already; wait for that solve to finish."),
    "draft_not_found": _l("This draft does not exist."),
    "experiment_not_editable": _l("An experiment that is %(status)s cannot be changed here."),
    "experiment_not_cancellable": _l("An experiment that is %(status)s cannot be cancelled."),
    "experiment_not_ended": _l("Delivered shifts are recorded once the experiment has ended (it is %(status)s)."),
    "swap_instruments": _l("Only two different experiments of the same instrument can be swapped."),
    "placement_unconfirmed": _l("Check the %(count)s warning(s) and confirm before saving."),
    "placement_overlap": _l("This overlaps %(other)s (%(starts)s to %(ends)s). Nothing was changed."),
    "placement_swap_overlap": _l("After the swap the two experiments would overlap. Nothing was changed."),
    "placement_changeover": _l("Less than the %(changeover)s changeover shift(s) from %(other)s."),
    "placement_downtime": _l("Falls in %(title)s: no beam then."),
    "placement_mode": _l("The machine is not in the required mode %(mode)s the whole time."),
    "placement_unacceptable": _l("The team cannot come then (unacceptable dates %(starts)s to %(ends)s)."),
    "placement_start_rule": _l("Experiments on %(code)s do not start on this shift or weekday."),
    "placement_person_busy": _l("The PI or local contact is in %(other)s on %(code)s at the same time."),
    "placement_award_exceeded": _l("%(booked)s shifts booked, more than the %(awarded)s awarded."),
    "nothing_to_publish": _l("Cycle %(cycle)s has no planned experiment to publish."),
    "delivery_exceeds_booked": _l("Delivered and lost shifts together cannot exceed the %(booked)s shifts booked."),
    "lost_reason_required": _l("Say why shifts were lost."),
    "choice": _l("Choose one of the options."),
    "unplaced_removed_by_hand": _l("Removed or shortened by hand on the timeline."),
    # --- visits ---
    "experiment_not_found": _l("That experiment does not exist, or you may not see it."),
    "visit_not_found": _l("That visit does not exist, or you may not see it."),
    "experiment_not_open_for_visits": _l(
        "Visitors can be named only for a published or running experiment (this one is %(status)s)."
    ),
    "visitor_not_on_team": _l("Choose a member of the proposal's team, or invite the person by e-mail."),
    "already_visitor": _l("This person is already named for this experiment."),
    "remote_needs_no_registration": _l("Remote participants have nothing more to register."),
    "visit_not_editable": _l("This visit can no longer be changed (it is %(status)s)."),
    "departure_before_arrival": _l("The departure must be on or after the arrival."),
    "arrival_too_early": _l("Arrive on %(earliest)s at the earliest (the experiment starts soon after)."),
    "arrival_after_experiment": _l("Arrive by %(ends_on)s at the latest: the experiment ends that day."),
    "departure_too_late": _l("Leave on %(latest)s at the latest (shortly after the experiment ends)."),
    "departure_before_experiment": _l("Stay until the experiment has started (%(starts_on)s)."),
    "phone_invalid": _l("Enter a phone number (digits, spaces, +, at least 6 characters)."),
    "visit_transition_not_allowed": _l('A visit that is %(status)s cannot take the step "%(action)s".'),
    "reason_required": _l("Give a reason: it is sent to the visitor."),
    "visit_registration_incomplete": _l("The visitor has not completed the registration yet."),
    "visit_waits_for_safety": _l("The experiment's safety has not been signed off yet: the visit cannot be approved."),
    "visit_waits_for_access": _l("Site access is %(access)s: the visit cannot be approved before access is approved."),
    "access_not_pending": _l("No site-access request is pending for this visit (it is %(access)s)."),
    "access_waits_for_safety": _l("Site access is decided after the experiment's safety sign-off."),
    "sample_name_required": _l("Each line needs a sample name before the colon."),
    "hazard_unknown": _l("Unknown hazard %(hazard)s: use %(known)s."),
    "samples_required": _l("Declare at least one sample."),
    "safety_not_confirmed": _l("The team has not confirmed the samples and hazards yet."),
    "safety_waits_for_scientist": _l("The instrument scientist signs off first."),
    "safety_already_signed": _l("There is nothing left for you to sign for this experiment."),
    "lead_days_range": _l("Enter a lead time from %(minimum)s to %(maximum)s days."),
    "course_exists": _l("A course with this name exists already."),
    "validity_range": _l("Enter a validity from %(minimum)s to %(maximum)s days."),
    "date_in_future": _l("This date is in the future."),
    # --- outcomes ---
    "report_experiment_cancelled": _l("This experiment was cancelled: it needs no report."),
    "report_experiment_not_published": _l("This experiment is not published yet: its report can wait."),
    "report_before_end": _l("The experiment ends at %(ends_at)s; hand the report in after that. Your draft is kept."),
    "report_empty": _l("Write the report, or upload it as a PDF, before you submit it."),
    "doi_invalid": _l(
        "“%(value)s” is not a DOI. A DOI starts with 10., a number, a slash and a suffix, e.g. 10.1107/S1600577521001234."
    ),
    "doi_already_linked": _l("The publication %(doi)s is already listed for this proposal."),
    "doi_taken": _l("The publication %(doi)s was just recorded by someone else; reload the page to see it."),
    "publication_year_invalid": _l("Give the year of publication, from 1950 to %(maximum)s."),
    "publication_instrument_unknown": _l("Choose instruments from the list."),
    "report_pdf_empty": _l("The file is empty. Choose the PDF of your report."),
    "report_pdf_too_large": _l("The file is %(size_mb)s MB; a report may be at most %(maximum_mb)s MB."),
    "report_pdf_wrong_type": _l("This is a %(kind)s file, not a PDF. Export your report as PDF."),
    "report_pdf_not_pdf": _l("This file is not a PDF (whatever its name says). Export your report as PDF."),
    "report_pdf_too_many_pages": _l("The report has %(pages)s pages; at most %(maximum)s are allowed."),
    # --- guesthouse and front desk ---
    "room_one_bed": _l("Single and accessible rooms have exactly one bed; a shared room has 2 or more."),
    "room_name_taken": _l("A room with this name exists already."),
    "room_not_found": _l("This room does not exist."),
    "room_inactive": _l("This room is out of service; choose another bed."),
    "bed_not_found": _l("This bed does not exist."),
    "bed_unknown": _l("Choose a bed from the list."),
    "bed_booking_not_found": _l("These nights are not booked (any more)."),
    "visit_wants_no_bed": _l("This visitor did not ask for a room, or their stay has no dates."),
    "night_outside_stay": _l("Choose nights within the visitor's stay."),
    "visitor_does_not_share": _l("This visitor does not accept a shared room."),
    "needs_accessible_room": _l("This visitor needs an accessible room."),
    "bed_taken": _l("This bed is already taken on the night of %(night)s; choose another bed."),
    "visitor_has_bed": _l("This visitor already has a bed on the night of %(night)s."),
    "remote_visit_no_check_in": _l("Remote participants are not checked in at the desk."),
    "already_checked_in": _l("This visitor is already checked in."),
    "checklist_incomplete": _l(
        "The checklist is not complete (%(items)s). Check the visitor in with an override and its reason, or not at all."
    ),
    "visit_not_on_site": _l("This visitor is not checked in."),
    "feedback_not_for_this_visit": _l("Feedback is for visits that took place."),
    "feedback_closed": _l("Feedback is open from the end of the experiment until %(last_day)s."),
    "accommodation_not_rated": _l("Rate the accommodation only if you stayed in the guesthouse."),
    # --- reports ---
    "report_filter_invalid": _l("%(value)s is not a valid choice for this filter."),
    "report_year_invalid": _l("Years are whole numbers between 1900 and 2200 (%(value)s is not)."),
}

GENERIC = _l("The request could not be completed (%(code)s).")


def message(exc: DomainError) -> str:
    """The translated sentence for a domain error, with its parameters filled in."""
    template = MESSAGES.get(exc.code)
    if template is None:
        return str(GENERIC % {"code": exc.code})
    try:
        return str(template % exc.params) if exc.params else str(template)
    except (KeyError, TypeError, ValueError):
        return str(template)


def item_messages(items: list[dict[str, Any]]) -> list[dict[str, str]]:
    """A list of problems (`{"code": …, **params}`, as an error's `items`) as codes and sentences."""
    out = []
    for item in items:
        params = {k: v for k, v in item.items() if k != "code"}
        out.append({"code": item["code"], "message": message(DomainError(item["code"], **params))})
    return out


def unplaced_message(reason: str, params: dict[str, Any]) -> str:
    """The sentence for a solver's reason an award was not fully placed (codes of docs/SOLVER.md)."""
    values = dict(params)
    if isinstance(values.get("by"), list | tuple):
        values["by"] = ", ".join(map(str, values["by"]))
    template = MESSAGES.get(f"unplaced_{reason}")
    if template is None:
        return str(GENERIC % {"code": reason})
    try:
        return str(template % values)
    except (KeyError, TypeError, ValueError):
        return str(template)


def known_codes() -> set[str]:
    return set(MESSAGES)
