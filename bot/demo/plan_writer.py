"""The words of one synthetic plan: voice, needs, outcomes, targets, reviews and timeline.

`PlanWriter` fills the templates in `need_text` and `plan_text` for the plans the builder in
`school` has already shaped (status, dates, case holder), drawing from one seeded generator so
the same school always gets the same words.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import TYPE_CHECKING

from bot.demo.names import HERITAGES, pick_heritage
from bot.demo.need_text import (
    CONTENT,
    CONTENT_KEYS,
    EXTRA_NEEDS,
    NEED_DESCRIPTIONS,
    SENSORY_KEYS,
    UNCODED_NEEDS,
    TargetTemplate,
)
from bot.demo.plan_text import (
    ABOUT_ME,
    AGENCIES,
    ASPIRATIONS,
    BAD_DAYS,
    BETTER_DAYS,
    CHILD_RELATIONS,
    COMMUNITY_CIRCLE,
    CONSENT_SCOPES,
    CYP_VIEWS,
    DECLINE_REASONS,
    DELEGATION_REASONS,
    EVIDENCE,
    FAMILIES,
    FAMILY_CONCERNS,
    FAMILY_HOPES,
    FAMILY_VIEWS,
    FINAL_NEXT_STEPS,
    GOOD_DAYS,
    IMPORTANT_TO_ME,
    LIKED_AND_ADMIRED,
    LINKED_PLANS,
    MALE_RELATIONS,
    NEED_SOURCES,
    OBSERVATION_NOTES,
    PHONE_NOTES,
    PROVISIONS,
    REVIEW_CHANGES,
    REVIEW_NEXT_STEPS,
    REVIEW_NOT_WORKING,
    REVIEW_RECOMMENDATIONS,
    REVIEW_WORKING,
    STRENGTHS,
    TARGET_STATUS_FOR,
)
from bot.demo.provision_library import FROM_PLAN_TEXT
from bot.demo.shape import CYCLE
from models import (
    AdjustmentKind,
    AgencyInvolvement,
    AgencyReport,
    AssignmentStatus,
    CaseHolderAssignment,
    CircleMember,
    LinkedPlan,
    LinkedPlanKind,
    NeedCode,
    NeedSource,
    Plan,
    PlanAdjustment,
    PlanNeed,
    PlanOutcome,
    PlanPerson,
    PlanPersonRole,
    PlanProvision,
    PlanStatus,
    PlanTarget,
    PlanVoice,
    ProvisionDecision,
    Pupil,
    Review,
    ReviewProvisionDecision,
    ReviewStatus,
    ReviewTargetResult,
    SenStage,
    SharingConsent,
    Staff,
    TargetResult,
    TargetStatus,
    TimelineEntry,
    TimelineKind,
)

# Words in a consent's scope (bot.demo.plan_text.CONSENT_SCOPES) that name people outside the
# school: such a consent is recorded as covering professionals outside the school.
OUTSIDE_THE_SCHOOL = ("professionals", "agencies")

if TYPE_CHECKING:  # the builder imports this module, so its types are named for the checker only
    from bot.demo.school import Child, DemoSchool, Member, PlanSpec


class PlanWriter:
    """Writes one plan's content from the template lists, in the voice schools use."""

    def __init__(self, demo: DemoSchool, rng: random.Random) -> None:
        self.demo = demo
        self.rng = rng
        self.today = demo.today
        self.sendco = demo.sendco
        self.heads = {m.year_group: m for m in demo.members if m.kind == "head_of_year"}
        self.classmates: dict[str, list[Child]] = {}
        for child in demo.children:
            self.classmates.setdefault(child.pupil.form, []).append(child)
        self.elsas = [m for m in demo.tas if m.is_elsa] or demo.tas
        # Reports wait for their plan's and involvement's ids: (plan, involvement, report).
        self.reports: list[tuple[Plan, AgencyInvolvement, AgencyReport]] = []

    def write(self, spec: PlanSpec) -> tuple[Plan, list[Review]]:
        rng, demo = self.rng, self.demo
        child, pupil = spec.child, spec.child.pupil
        codes = [pupil.primary_need] + ([pupil.secondary_need] if pupil.secondary_need else [])
        keys = list(dict.fromkeys(CONTENT_KEYS[code] for code in codes))
        ta = rng.choice(demo.tas)
        holder = spec.holder or spec.former_holder
        key_adult = holder if holder and holder.kind in ("learning_support", "sendco") else ta
        fill = {
            "name": child.name,
            "year": pupil.year_group,
            "ta": ta.formal,
            "elsa": rng.choice(self.elsas).formal,
            "key_adult": key_adult.formal,
        }
        family = self._family(child)
        parent_relation = family[0][1]

        if spec.status in (PlanStatus.DRAFT, PlanStatus.AWAITING_QA):
            created = self.today - timedelta(days=rng.randint(5, 25))
        else:
            cycles_before = spec.cycle - spec.first_cycle
            created = spec.start - cycles_before * CYCLE - timedelta(days=rng.randint(3, 10))
        plan = Plan(
            school_id=demo.school.id,
            pupil=pupil,
            cycle_number=spec.cycle,
            status=spec.status,
            start_date=spec.start,
            review_date=spec.review,
            case_holder=spec.holder.staff if spec.holder else None,
            created_at=demo.at(created, 10),
        )
        if spec.status in (PlanStatus.ACTIVE, PlanStatus.IN_REVIEW, PlanStatus.CLOSED):
            plan.approved_at = demo.at(min(spec.start, self.today), 15, 30)
            plan.approved_by_id = self.sendco.staff.id
        if spec.status == PlanStatus.CLOSED:
            plan.closed_at = demo.at(spec.review, 16)

        plan.voice = self._voice(child, keys, fill, family)
        plan.circle_of_support = self._circle(child, family, key_adult)
        plan.needs = self._needs(child, codes)
        plan.adjustments = self._adjustments(pupil, keys, fill)
        outcomes = self._outcomes(pupil, keys, fill)
        plan.outcomes = [outcome for _, outcome in outcomes]

        targets, templates = self._targets(
            keys, outcomes, fill, spec.cycle, spec.start, spec.review, 0
        )
        previous: list[PlanTarget] = []
        reviews_previous = spec.cycle >= 2 and spec.status != PlanStatus.CLOSED
        if reviews_previous:
            previous, _ = self._targets(
                keys,
                outcomes,
                fill,
                spec.cycle - 1,
                spec.start - CYCLE,
                spec.start,
                len(targets),
                avoid=frozenset(templates),
            )
        plan.targets = targets + previous
        plan.provisions = self._provisions(targets, templates, fill, spec.start, spec.review)

        agencies = self._agencies(spec, keys, fill)
        plan.agencies = [involvement for involvement, _ in agencies]
        self.reports += [(plan, inv, report) for inv, report in agencies if report is not None]
        plan.linked_plans = self._linked_plans(pupil, keys)
        plan.people = self._people(child, holder, ta, family[0], agencies)
        plan.consents = [self._consent(spec, family[0], fill)]
        plan.assignments = self._assignments(spec)

        reviews: list[Review] = []
        if spec.status == PlanStatus.CLOSED:
            reviews.append(
                self._review(
                    plan, spec.cycle, targets, spec.review, holder, fill, family[0], ta, final=True
                )
            )
        elif reviews_previous:
            author = spec.former_holder if spec.unassigned == "left" else holder
            reviews.append(
                self._review(
                    plan,
                    spec.cycle - 1,
                    previous,
                    spec.start,
                    author,
                    fill,
                    family[0],
                    ta,
                    carried={target.description for target in targets},
                )
            )
        if spec.status == PlanStatus.IN_REVIEW:
            reviews.append(self._draft_review(plan, spec, targets, holder, fill))

        plan.timeline = self._timeline(spec, holder, fill, parent_relation, plan.assignments)
        plan.updated_at = max([e.occurred_at for e in plan.timeline] + [plan.created_at])
        plan.updated_by_id = holder.staff.id if holder and holder.staff.is_active else None
        return plan, reviews

    # -- sections of the plan --

    def _family(self, child: Child) -> list[tuple[str, str]]:
        """The people at home, closest first, as (full name, relationship)."""
        rng, pupil, heritage = self.rng, child.pupil, child.heritage
        if pupil.child_in_care:
            relations: tuple[str, ...] = ("Foster carer", "Foster carer")
        else:
            relations = rng.choices([f for f, _ in FAMILIES], weights=[w for _, w in FAMILIES])[0]
        people = []
        for relation in relations:
            if relation in CHILD_RELATIONS:
                first = rng.choice(heritage.children)
            elif relation in MALE_RELATIONS:
                first = rng.choice(heritage.men)
            else:
                first = rng.choice(heritage.women)
            same_surname = relation not in ("Stepdad", "Foster carer", "Dad's partner")
            surname = pupil.last_name if same_surname else rng.choice(heritage.surnames)
            people.append((f"{first} {surname}", relation))
        return people

    def _voice(self, child: Child, keys: list[str], fill: dict, family) -> PlanVoice:
        rng, pupil = self.rng, child.pupil
        content = CONTENT[keys[0]]
        if pupil.child_in_care:
            household = "foster carers"
        else:
            household = _join(
                r if r in ("Mum", "Dad", "Nan", "Grandad") else r.lower() for _, r in family
            )
        about = f"{{name}} is in Year {pupil.year_group} and lives with {household}. "
        about += rng.choice(ABOUT_ME)
        if pupil.young_carer:
            about += " {name} is a young carer and helps to look after someone at home."
        if pupil.eal:
            about += f" {{name}} speaks {rng.choice(child.heritage.languages)} at home as well "
            about += "as English."
        concerns = rng.choice(FAMILY_CONCERNS) if rng.random() < 0.6 else None
        return PlanVoice(
            aspirations=_fill(rng.choice(ASPIRATIONS), fill),
            important_to_me=_fill(rng.choice(IMPORTANT_TO_ME), fill),
            strengths_and_likes=_fill(rng.choice(STRENGTHS), fill),
            # Chosen without the generator, so every other choice (and each seed's school)
            # stays as it was before the question was asked.
            liked_and_admired=_fill(LIKED_AND_ADMIRED[len(about) % len(LIKED_AND_ADMIRED)], fill),
            difficulties=_fill(rng.choice(content.difficulties), fill),
            how_to_support_me=_fill(rng.choice(content.support), fill),
            good_day=_fill(rng.choice(GOOD_DAYS), fill),
            bad_day=_fill(rng.choice(BAD_DAYS), fill),
            better_days=_fill(rng.choice(BETTER_DAYS), fill),
            about_me=_fill(about, fill),
            family_hopes=_fill(rng.choice(FAMILY_HOPES), fill),
            family_concerns=_fill(concerns, fill) if concerns else None,
            professional_concerns=_fill(rng.choice(content.concerns), fill),
        )

    def _circle(self, child: Child, family, key_adult: Member) -> list[CircleMember]:
        rng = self.rng
        members = [(name, relation, 1) for name, relation in family[:2]]
        classmates = [c for c in self.classmates[child.pupil.form] if c is not child]
        if classmates and rng.random() < 0.8:
            members.append((rng.choice(classmates).name, "Friend", 2))
        members.append((key_adult.formal, "Key adult at school", 3))
        if child.pupil.child_in_care:
            worker = f"{rng.choice(HERITAGES[0].women)} {rng.choice(HERITAGES[0].surnames)}"
            members.append((worker, "Social worker", 4))
        elif rng.random() < 0.4:
            members.append(rng.choice(COMMUNITY_CIRCLE))
        return [
            CircleMember(name=name, relationship_to_cyp=relation, ring=ring, position=i)
            for i, (name, relation, ring) in enumerate(members[:5])
        ]

    def _needs(self, child: Child, codes: list[NeedCode]) -> list[PlanNeed]:
        rng, pupil = self.rng, child.pupil
        fill = {"name": child.name}
        needs = []
        for i, code in enumerate(codes):
            if i == 0 and pupil.sen_stage == SenStage.EHC_PLAN:
                source = NeedSource.EHCP
            else:
                source = rng.choice(NEED_SOURCES)
            if code.broad_area is None:  # OTH, NSA: see need_text.UNCODED_NEEDS
                area, text = rng.choice(UNCODED_NEEDS[code])
                census_code = None
            else:
                area, census_code = code.broad_area, code
                text = rng.choice(NEED_DESCRIPTIONS[code])
            needs.append(
                PlanNeed(
                    broad_area=area,
                    census_code=census_code,
                    description=_fill(text, fill),
                    source=source,
                    is_primary=i == 0,
                    position=i,
                )
            )
        if rng.random() < 0.4:
            covered = {need.broad_area for need in needs}
            area, text = rng.choice([n for n in EXTRA_NEEDS if n[0] not in covered])
            needs.append(
                PlanNeed(
                    broad_area=area,
                    census_code=None,
                    description=_fill(text, fill),
                    source=NeedSource.OBSERVATION,
                    is_primary=False,
                    position=len(needs),
                )
            )
        return needs

    def _adjustments(self, pupil: Pupil, keys: list[str], fill: dict) -> list[PlanAdjustment]:
        rng = self.rng
        total = rng.randint(2, 4)
        # Exam access arrangements matter most as GCSEs approach.
        chance = {11: 0.9, 10: 0.8, 9: 0.5}.get(pupil.year_group, 0.2)
        if pupil.sen_stage == SenStage.EHC_PLAN:
            chance = max(chance, 0.7)
        n_access = (2 if total == 4 and rng.random() < 0.3 else 1) if rng.random() < chance else 0
        in_class = list(dict.fromkeys(a for key in keys for a in CONTENT[key].adjustments))
        access = list(dict.fromkeys(a for key in keys for a in CONTENT[key].access))
        rows = [(AdjustmentKind.IN_CLASS, t) for t in rng.sample(in_class, total - n_access)]
        rows += [(AdjustmentKind.ACCESS_ARRANGEMENT, t) for t in rng.sample(access, n_access)]
        return [
            PlanAdjustment(kind=kind, description=_fill(text, fill), position=i)
            for i, (kind, text) in enumerate(rows)
        ]

    def _outcomes(self, pupil: Pupil, keys: list[str], fill: dict) -> list[tuple[str, PlanOutcome]]:
        rng = self.rng
        count = 2 if len(keys) > 1 or rng.random() < 0.5 else 1
        outcomes: list[tuple[str, PlanOutcome]] = []
        used: set[str] = set()
        for i, key in enumerate((keys * 2)[:count]):
            text = rng.choice([o for o in CONTENT[key].outcomes if o not in used])
            used.add(text)
            outcome = PlanOutcome(
                description=_fill(text, fill),
                timescale=rng.choice(_timescales(pupil.year_group, self.demo.academic_year)),
                from_ehcp=pupil.sen_stage == SenStage.EHC_PLAN,
                position=i,
            )
            outcomes.append((key, outcome))
        return outcomes

    def _targets(self, keys, outcomes, fill, cycle, start, end, first_position, avoid=()):
        """2–4 SMART targets, mostly for the primary need, each towards one of the outcomes.

        Targets in `avoid` (another cycle's) are only used again when nothing else is left.
        """
        rng = self.rng
        count = rng.randint(2, 4)
        target_keys = [keys[0]] * count
        if len(keys) > 1:
            target_keys[-1] = keys[1]
        used: set[TargetTemplate] = set()
        targets: list[PlanTarget] = []
        templates: list[TargetTemplate] = []
        for i, key in enumerate(target_keys):
            fresh = [t for t in CONTENT[key].targets if t not in used]
            options = [t for t in fresh if t not in avoid] or fresh or list(CONTENT[key].targets)
            template = rng.choice(options)
            used.add(template)
            towards = [o for k, o in outcomes if k == key] or [o for _, o in outcomes]
            targets.append(
                PlanTarget(
                    outcome=towards[i % len(towards)],
                    description=_fill(template.description, fill),
                    measure=_fill(template.measure, fill),
                    baseline=_fill(template.baseline, fill),
                    success_criteria=_fill(template.success, fill),
                    start_date=start,
                    end_date=end,
                    status=TargetStatus.OPEN,
                    cycle_number=cycle,
                    position=first_position + i,
                )
            )
            templates.append(template)
        return targets, templates

    def _provisions(self, targets, templates, fill, start, end) -> list[PlanProvision]:
        rng = self.rng
        used: set[str] = set()
        provisions = []
        for target, template in zip(targets, templates, strict=True):
            options = [key for key in template.provisions if key not in used]
            if not options:
                continue
            key = rng.choice(options)
            used.add(key)
            what, who, how, how_often, how_long = PROVISIONS[key]
            provisions.append(
                PlanProvision(
                    target=target,
                    what=_fill(what, fill),
                    who=_fill(who, fill),
                    how=_fill(how, fill),
                    how_often=how_often,
                    how_long=how_long,
                    start_date=start,
                    end_date=end,
                    position=len(provisions),
                    library_id=self.demo.library_ids.get(FROM_PLAN_TEXT.get(key, "")),
                )
            )
        return provisions

    def _agencies(self, spec: PlanSpec, keys: list[str], fill: dict):
        rng, pupil = self.rng, spec.child.pupil
        options = list(dict.fromkeys(a for key in keys for a in CONTENT[key].agencies))
        if pupil.sen_stage == SenStage.EHC_PLAN:
            chosen = rng.sample(options, min(len(options), rng.choice((1, 2))))
            if "ep" not in chosen:
                chosen.append("ep")  # EP advice is part of every EHC needs assessment
        elif keys[0] in SENSORY_KEYS or rng.random() < 0.4:
            chosen = [options[0] if keys[0] in SENSORY_KEYS else rng.choice(options)]
        else:
            chosen = []
        found = []
        for key in chosen:
            agency, role, involvement, title, recommendations = AGENCIES[key]
            heritage = pick_heritage(rng, staff=True)
            person = f"{rng.choice(heritage.women + heritage.men)} {rng.choice(heritage.surnames)}"
            started = min(spec.start, self.today) - timedelta(days=rng.randint(60, 700))
            row = AgencyInvolvement(
                agency=agency,
                contact=f"{person}, {role}",
                involvement=_fill(involvement, fill),
                started_on=started,
            )
            report = None
            if title:
                report = AgencyReport(
                    title=title,
                    author=f"{person}, {role}",
                    report_date=started + timedelta(days=rng.randint(14, 50)),
                    recommendations=_fill(recommendations, fill),
                    location="SEND records system: pupil file, Reports folder",
                )
            found.append((row, report))
        return found

    def _linked_plans(self, pupil: Pupil, keys: list[str]) -> list[LinkedPlan]:
        rng = self.rng
        links = []
        if pupil.sen_stage == SenStage.EHC_PLAN:
            links.append(LINKED_PLANS[LinkedPlanKind.EHC_PLAN])
        if pupil.medical_need:
            links.append(LINKED_PLANS[LinkedPlanKind.HEALTH_CARE])
        if pupil.child_in_care:
            links.append(LINKED_PLANS[LinkedPlanKind.PERSONAL_EDUCATION])
        if pupil.young_carer:
            links.append(LINKED_PLANS[LinkedPlanKind.EARLY_HELP])
        if "semh" in keys and rng.random() < 0.25:
            links.append(LINKED_PLANS[LinkedPlanKind.BEHAVIOUR_SUPPORT])
        if "pd" in keys:
            links.append(LINKED_PLANS[LinkedPlanKind.RISK_ASSESSMENT])
            if rng.random() < 0.3:
                links.append(LINKED_PLANS[LinkedPlanKind.INTIMATE_CARE])
        return [
            LinkedPlan(kind=kind, description=description, location=location)
            for kind, description, location in links
        ]

    def _people(self, child, holder, ta, parent, agencies) -> list[PlanPerson]:
        rng = self.rng
        parent_name, parent_relation = parent
        people: list[tuple[PlanPersonRole, str, str, Staff | None]] = []
        if holder and holder.staff.is_active:
            people.append((PlanPersonRole.DELIVERS, holder.full, "Case holder", holder.staff))
        people.append((PlanPersonRole.DELIVERS, ta.full, "Teaching assistant", ta.staff))
        teachers = list(
            dict.fromkeys((entry.teachers[0], entry.group.subject) for entry in child.groups)
        )
        for teacher, subject in rng.sample(teachers, min(2, len(teachers))):
            people.append(
                (PlanPersonRole.DELIVERS, teacher.full, f"{subject} teacher", teacher.staff)
            )
        people.append((PlanPersonRole.CONTRIBUTED, child.name, "Young person", None))
        people.append((PlanPersonRole.CONTRIBUTED, parent_name, parent_relation, None))
        for involvement, _ in agencies[:1]:
            contact = involvement.contact.split(",")[0]
            people.append((PlanPersonRole.CONTRIBUTED, contact, involvement.agency, None))
        people.append((PlanPersonRole.SENT_TO, parent_name, parent_relation, None))
        people.append(
            (PlanPersonRole.SENT_TO, f"All staff who teach {child.name}", "Teachers", None)
        )
        head = self.heads.get(child.pupil.year_group)
        if head:
            role = f"Head of Year {child.pupil.year_group}"
            people.append((PlanPersonRole.SENT_TO, head.full, role, head.staff))
        return [
            PlanPerson(
                role=role,
                name=name,
                relationship_to_cyp=relation,
                staff_id=staff.id if staff else None,
            )
            for role, name, relation, staff in people
        ]

    def _consent(self, spec: PlanSpec, parent, fill: dict) -> SharingConsent:
        rng = self.rng
        given_on = min(spec.start, self.today) - timedelta(days=rng.randint(1, 14))
        if spec.child.pupil.child_in_care:
            given_by = f"{rng.choice(HERITAGES[0].women)} {rng.choice(HERITAGES[0].surnames)}"
            relation = "Social worker (for the local authority)"
        else:
            given_by, relation = parent
        scope = rng.choice(CONSENT_SCOPES)
        return SharingConsent(
            given_by=given_by,
            relationship_to_cyp=relation,
            scope=_fill(scope, fill),
            # What the family agreed to, as `/ssp export --for agency` reads it: a scope that
            # names professionals or agencies (the EP, the nurse's service) covers them.
            outside_school=any(word in scope for word in OUTSIDE_THE_SCHOOL),
            storage_notes="Kept in the school's SEND records system; paper copies are shredded "
            "after the meeting.",
            given_on=given_on,
        )

    def _assignments(self, spec: PlanSpec) -> list[CaseHolderAssignment]:
        demo, rng, today = self.demo, self.rng, self.today
        sendco = self.sendco.staff
        rows = []
        cycles_before = spec.cycle - spec.first_cycle
        delegated = spec.start - cycles_before * CYCLE - timedelta(days=rng.randint(5, 12))
        delegated = min(delegated, today - timedelta(days=2))
        if spec.former_holder is not None:
            if spec.unassigned == "left":
                ended, why = spec.former_holder.staff.left_on, "Case holder left the school"
            else:
                ended = min(spec.start, today) - timedelta(days=rng.randint(3, 20))
                why = "Caseloads rebalanced at the start of term"
            delegated = min(delegated, ended - timedelta(days=30))
            rows.append(
                CaseHolderAssignment(
                    staff=spec.former_holder.staff,
                    assigned_by=sendco,
                    reason=rng.choice(DELEGATION_REASONS),
                    status=AssignmentStatus.ENDED,
                    created_at=demo.at(delegated, 10),
                    responded_at=demo.at(delegated + timedelta(days=1), 12),
                    ended_at=demo.at(ended, 16),
                    response_reason=why,
                )
            )
            delegated = ended
        if spec.holder is not None:
            responded = min(delegated + timedelta(days=rng.randint(0, 3)), today)
            reason = (
                "EHC plan with complex needs: kept by the SENDCo"
                if spec.holder is self.sendco
                else rng.choice(DELEGATION_REASONS)
            )
            rows.append(
                CaseHolderAssignment(
                    staff=spec.holder.staff,
                    assigned_by=sendco,
                    reason=reason,
                    status=AssignmentStatus.ACCEPTED,
                    created_at=demo.at(delegated, 10, 30),
                    responded_at=demo.at(responded, 13),
                )
            )
        elif spec.unassigned in ("pending", "declined"):
            holders = [m for m in demo.members if m.caseload and m is not self.sendco]
            asked = rng.choice(holders)
            offered = today - timedelta(days=rng.randint(1, 4))
            declined = spec.unassigned == "declined"
            rows.append(
                CaseHolderAssignment(
                    staff=asked.staff,
                    assigned_by=sendco,
                    reason=rng.choice(DELEGATION_REASONS),
                    status=AssignmentStatus.DECLINED if declined else AssignmentStatus.PENDING,
                    created_at=demo.at(offered, 10),
                    responded_at=demo.at(offered + timedelta(days=1), 11) if declined else None,
                    response_reason=rng.choice(DECLINE_REASONS) if declined else None,
                )
            )
        return rows

    def _review(
        self, plan, cycle, targets, meeting, author, fill, parent, ta, final=False, carried=()
    ):
        """The submitted (usually approved) review of one finished cycle, target by target.

        `carried` holds the descriptions of targets set again for the next cycle.
        """
        rng, demo = self.rng, self.demo
        parent_name, parent_relation = parent
        author = author or self.sendco
        submitted = meeting + timedelta(days=1)
        approved = final or rng.random() < 0.8
        results = []
        for target in targets:
            result = rng.choices(tuple(TARGET_STATUS_FOR), weights=(40, 40, 20))[0]
            if target.description in carried:
                # Set again for the next cycle, so it cannot have been achieved.
                result = rng.choice((TargetResult.PARTLY, TargetResult.NOT_YET))
            target.status = TARGET_STATUS_FOR[result]
            evidence = _fill(rng.choice(EVIDENCE[result]), fill)
            results.append(ReviewTargetResult(target=target, result=result, evidence=evidence))
        last_change = submitted + timedelta(days=2) if approved else submitted
        return Review(
            plan=plan,
            cycle_number=cycle,
            status=ReviewStatus.APPROVED if approved else ReviewStatus.SUBMITTED,
            meeting_date=meeting,
            what_is_working=_fill(rng.choice(REVIEW_WORKING), fill),
            what_is_not_working=_fill(rng.choice(REVIEW_NOT_WORKING), fill),
            what_needs_to_change=_fill(rng.choice(REVIEW_CHANGES), fill),
            next_steps=_fill(rng.choice(FINAL_NEXT_STEPS if final else REVIEW_NEXT_STEPS), fill),
            recommendations=_fill(rng.choice(REVIEW_RECOMMENDATIONS), fill),
            # Decided from what the review found, not drawn: each seed's school stays as it was.
            new_outcomes_needed=not final
            and any(r.result == TargetResult.ACHIEVED for r in results),
            provision_decisions=[
                ReviewProvisionDecision(
                    provision=provision,
                    provision_what=provision.what,
                    decision=ProvisionDecision.STOP if final else ProvisionDecision.CONTINUE,
                    position=position,
                )
                for position, provision in enumerate(plan.provisions)
            ],
            cyp_views=_fill(rng.choice(CYP_VIEWS), fill),
            family_views=_fill(rng.choice(FAMILY_VIEWS), {**fill, "parent": parent_relation}),
            attendees=f"{fill['name']}; {parent_name} ({parent_relation}); "
            f"{author.full} (case holder); {ta.full} (teaching assistant)",
            author=author.staff,
            submitted_at=demo.at(submitted, 15, 30),
            approved_at=demo.at(submitted + timedelta(days=2), 9, 15) if approved else None,
            approved_by=self.sendco.staff if approved else None,
            created_at=demo.at(meeting, 9),
            updated_at=demo.at(last_change, 9, 15),
            target_results=results,
        )

    def _draft_review(self, plan, spec, targets, holder, fill) -> Review:
        """The review under way for a plan in review: started, results not yet recorded."""
        started = min(spec.review, self.today) - timedelta(days=self.rng.randint(1, 5))
        return Review(
            plan=plan,
            cycle_number=spec.cycle,
            status=ReviewStatus.DRAFT,
            meeting_date=spec.review,
            what_is_working=_fill(self.rng.choice(REVIEW_WORKING), fill),
            author=holder.staff if holder else None,
            created_at=self.demo.at(started, 14),
            updated_at=self.demo.at(started, 14),
            target_results=[ReviewTargetResult(target=target, result=None) for target in targets],
        )

    def _timeline(self, spec, holder, fill, parent_relation, assignments) -> list[TimelineEntry]:
        """Meetings, calls and delegations so far, oldest first; nothing after today."""
        rng, today, sendco = self.rng, self.today, self.sendco
        author = holder or sendco
        entries: list[tuple[date, int, TimelineKind, str, Member]] = []

        def add(day: date, hour: int, kind: TimelineKind, summary: str, who=author) -> None:
            entries.append((day, hour, kind, summary, who))

        for row in assignments:
            who = f"{row.staff.title} {row.staff.last_name}"
            offered = row.created_at.date()
            add(offered, 10, TimelineKind.ASSIGNMENT, f"Plan offered to {who}.", sendco)
            if row.status == AssignmentStatus.PENDING:
                continue
            answered = row.responded_at.date()
            if row.status == AssignmentStatus.DECLINED:
                what = f"{who} declined: {row.response_reason}"
                add(answered, 11, TimelineKind.ASSIGNMENT, what, sendco)
                continue
            what = f"{who} accepted the plan as case holder."
            add(answered, 13, TimelineKind.ASSIGNMENT, what, sendco)
            if row.status == AssignmentStatus.ENDED:
                if spec.unassigned == "left":
                    what = f"{who} left the school; the plan needs a new case holder."
                else:
                    what = f"{who} handed the plan on: {row.response_reason.lower()}."
                add(row.ended_at.date(), 16, TimelineKind.ASSIGNMENT, what, sendco)

        if spec.status in (PlanStatus.DRAFT, PlanStatus.AWAITING_QA):
            started = today - timedelta(days=rng.randint(4, 12))
            what = "Draft plan started; {name}'s views gathered for the one-page profile."
            add(started, 11, TimelineKind.NOTE, what)
            what = (
                f"Phoned {parent_relation} to ask about {{name}}'s strengths and what the "
                "plan should achieve."
            )
            add(started + timedelta(days=2), 16, TimelineKind.PHONE_CALL, what)
            if spec.status == PlanStatus.AWAITING_QA:
                what = "Plan submitted to the SENDCo for quality assurance."
                add(today - timedelta(days=rng.randint(0, 2)), 15, TimelineKind.PLAN_CHANGE, what)
        else:
            meeting = spec.start - timedelta(days=rng.randint(0, 3))
            if spec.cycle > spec.first_cycle or spec.status == PlanStatus.CLOSED:
                what = (
                    f"Review meeting with {{name}} and {parent_relation}: targets reviewed and "
                    "the next cycle agreed."
                )
                add(meeting, 15, TimelineKind.REVIEW, what)
            else:
                what = (
                    f"Planning meeting with {{name}} and {parent_relation} to agree outcomes, "
                    "targets and support."
                )
                add(meeting, 15, TimelineKind.MEETING, what)
            what = "Emailed the plan's adjustments and strategies to all staff who teach {name}."
            add(spec.start + timedelta(days=rng.randint(1, 4)), 12, TimelineKind.EMAIL, what)
            if spec.child.groups:
                subject = rng.choice(spec.child.groups).group.subject
                what = f"Observed {{name}} in {subject}: {rng.choice(OBSERVATION_NOTES)}"
                add(spec.start + timedelta(days=rng.randint(14, 40)), 11, TimelineKind.NOTE, what)
            if rng.random() < 0.5:
                what = f"Call with {parent_relation}: {rng.choice(PHONE_NOTES)}"
                called = spec.start + timedelta(days=rng.randint(20, 60))
                add(called, 16, TimelineKind.PHONE_CALL, what)
            if spec.status == PlanStatus.IN_REVIEW:
                what = "Review started: teachers asked how the plan is working in their lessons."
                add(min(spec.review, today) - timedelta(days=1), 9, TimelineKind.NOTE, what)
            if spec.status == PlanStatus.CLOSED:
                what = "Plan closed; a new plan starts from this review."
                add(spec.review, 17, TimelineKind.PLAN_CHANGE, what)

        latest = spec.review if spec.status == PlanStatus.CLOSED else today
        rows = []
        for day, hour, kind, summary, who in sorted(entries, key=lambda e: (e[0], e[1])):
            if day > latest:
                continue
            if not who.active_on(day):
                who = sendco  # nothing is written by someone after they have left
            moment = self.demo.at(day, hour)
            rows.append(
                TimelineEntry(
                    occurred_at=moment,
                    kind=kind,
                    summary=_fill(summary, fill),
                    author=who.staff,
                    created_at=moment,
                )
            )
        return rows


def _fill(template: str, values: dict) -> str:
    return template.format(**values)


def _join(words) -> str:
    """ "A", "A and B", "A, B and C"."""
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _timescales(year: int, academic_year: int) -> list[str]:
    key_stage_end = 9 if year <= 9 else 11
    return [
        f"By the end of Year {year} (July {academic_year + 1})",
        f"By the end of Key Stage {3 if year <= 9 else 4} (July "
        f"{academic_year + 1 + key_stage_end - year})",
        "Within 12 months",
    ]
