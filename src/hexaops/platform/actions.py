"""The action pipeline: the only way platform state changes.

    request:  validate → authorize(principal) → plan (dry run) → reserve → approval state
    approve:  a principal allowed to approve decides a pending action
    run:      start → execute (driver) → verify → record | release

Each step is one transaction, and each state change of an action appends exactly one audit
event in that same transaction, so the audit log never disagrees with the actions table.
The same idempotency key from the same principal returns the same action, never a second run.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hexaops.platform.access import scope_of
from hexaops.platform.db.models import Action, AuditEvent, utcnow
from hexaops.platform.domain import ActionStatus, Principal, Risk
from hexaops.platform.drivers.contract import PlatformDriver
from hexaops.platform.errors import ApprovalRequired, Conflict, NotFound, PlatformError
from hexaops.platform.operations import ActionPlan, OpContext, Operation, build_operation
from hexaops.platform.views import ActionView

log = logging.getLogger(__name__)

AUTO_APPROVER = "policy:low-risk"


def audit(
    session: Session,
    action: Action,
    actor: str,
    *,
    status: ActionStatus | None = None,
    plan: dict[str, Any] | None = None,
    result: dict[str, Any] | None = None,
) -> None:
    """Append the audit event of a state the action entered (by default its current one)."""
    session.add(
        AuditEvent(
            org_id=action.org_id,
            action_id=action.id,
            actor=actor,
            event=f"action.{status or action.status}",
            operation=action.operation,
            target=action.target,
            plan=plan,
            approved_by=action.approved_by,
            result=result,
        )
    )


class ActionPipeline:
    def __init__(self, sessions: sessionmaker[Session], driver: PlatformDriver) -> None:
        self._sessions = sessions
        self.driver = driver

    def request(
        self,
        principal: Principal,
        op: Operation,
        *,
        idempotency_key: str | None = None,
        dry_run: bool = False,
    ) -> ActionView:
        """Plan an operation as `principal`; run it at once when policy approves it."""
        params = op.model_dump(mode="json")
        try:
            with self._sessions.begin() as session:
                if idempotency_key and not dry_run:
                    # Requests under one key take turns, so a concurrent retry finds the first
                    # one's action instead of racing it through plan and reserve.
                    session.execute(
                        select(
                            func.pg_advisory_xact_lock(
                                func.hashtextextended(f"{principal.id} {idempotency_key}", 0)
                            )
                        )
                    )
                    existing = self._by_key(session, principal, idempotency_key)
                    if existing is not None:
                        return self._replay(existing, op.kind, params)
                ctx = OpContext(session, principal, self.driver)
                scope = op.scope(ctx)
                scope.authorize(op.kind)
                plan = op.plan(ctx, scope)
                risk = op.effective_risk(plan)
                if dry_run:  # plan() only reads: nothing to roll back
                    return ActionView(
                        id=None,
                        operation=op.kind,
                        status="planned",
                        risk=risk,
                        target=plan.target,
                        summary=plan.summary,
                        plan=plan.model_dump(exclude={"refs"}),
                        requested_by=principal.id,
                    )
                op.reserve(ctx, plan)
                auto = risk is Risk.LOW
                if auto:  # approved by policy and started in this same transaction
                    op.start(OpContext(session, principal), plan)
                action = Action(
                    org_id=scope.org.id,
                    operation=op.kind,
                    params=params,
                    target=plan.target,
                    plan=plan.model_dump(mode="json"),
                    risk=risk,
                    status=ActionStatus.EXECUTING if auto else ActionStatus.PENDING,
                    requested_by=principal.id,
                    principal=principal.to_record(),
                    idempotency_key=idempotency_key,
                    approved_by=AUTO_APPROVER if auto else None,
                )
                session.add(action)
                session.flush()
                shown_plan = {k: v for k, v in action.plan.items() if k != "refs"}
                if not auto:
                    audit(session, action, principal.id, plan=shown_plan)
                    return ActionView.of(action)
                audit(session, action, principal.id, status=ActionStatus.APPROVED, plan=shown_plan)
                audit(session, action, "platform")
                action_id = action.id
        except IntegrityError:
            # A concurrent retry under the same key may win on any unique index (the name, or the
            # key itself): when the key now exists, this request is that retry.
            if idempotency_key:
                with self._sessions() as session:
                    existing = self._by_key(session, principal, idempotency_key)
                    if existing is not None:
                        return self._replay(existing, op.kind, params)
            raise Conflict(
                f"{op.kind} on {params.get('name', '')!r} collided with a concurrent change "
                "(the name was just taken): list again and retry"
            ) from None
        return self._execute(action_id, principal, op, plan)

    def approve(self, principal: Principal, action_id: int, note: str = "") -> ActionView:
        """Approve a pending action and run it (approval and start share a transaction)."""
        with self._sessions.begin() as session:
            action = self._decidable(session, principal, action_id)
            op, plan = self._rebuild(action)
            self._recheck(session, action, op, plan)
            action.status, action.approved_by, action.decision_note = (
                ActionStatus.APPROVED,
                principal.id,
                note,
            )
            audit(session, action, principal.id)
            self._start(session, action, op, plan)
            requester = Principal.from_record(action.principal)
        return self._execute(action_id, requester, op, plan)

    def reject(self, principal: Principal, action_id: int, note: str = "") -> ActionView:
        with self._sessions.begin() as session:
            action = self._decidable(session, principal, action_id)
            op, plan = self._rebuild(action)
            op.release(OpContext(session, principal), plan, executed=False)
            action.status, action.decision_note = ActionStatus.REJECTED, note
            audit(session, action, principal.id)
            return ActionView.of(action)

    def run(self, action_id: int) -> ActionView:
        """Execute an approved action that has not started (e.g. after a crash between steps)."""
        with self._sessions.begin() as session:
            action = session.get(Action, action_id, with_for_update=True)
            if action is None:
                raise NotFound(f"action {action_id} not found")
            if action.status == ActionStatus.PENDING:
                raise ApprovalRequired(
                    f"action {action_id} waits for approval by an owner or admin: "
                    f"hexaops platform actions approve {action_id} --as EMAIL"
                )
            if action.status != ActionStatus.APPROVED:
                return ActionView.of(action)  # already run (or running) elsewhere: never twice
            op, plan = self._rebuild(action)
            self._start(session, action, op, plan)
            requester = Principal.from_record(action.principal)
        return self._execute(action_id, requester, op, plan)

    def _recheck(self, session: Session, action: Action, op: Operation, plan: ActionPlan) -> None:
        try:
            requester = Principal.from_record(action.principal)
            op.recheck(OpContext(session, requester, self.driver), plan)
        except PlatformError as exc:
            raise Conflict(
                f"action {action.id} no longer applies ({exc.message}); reject it and request again"
            ) from None

    @staticmethod
    def _start(session: Session, action: Action, op: Operation, plan: ActionPlan) -> None:
        op.start(OpContext(session, Principal.from_record(action.principal)), plan)
        action.status = ActionStatus.EXECUTING
        audit(session, action, "platform")

    def _execute(
        self, action_id: int, requester: Principal, op: Operation, plan: ActionPlan
    ) -> ActionView:
        """Drive the cluster outside any transaction, then record the outcome in one."""
        result: dict[str, Any] | None = None
        error: str | None = None
        try:
            result = op.execute(self.driver, plan)
            op.verify(self.driver, plan)
        except PlatformError as exc:
            error = exc.message
        except Exception as exc:  # a driver bug must still end the action, not leave it executing
            log.exception("driver failed on action %s", action_id)
            error = f"unexpected {exc.__class__.__name__} from the {self.driver.name} driver: {exc}"

        with self._sessions.begin() as session:
            # Only this run moved the action to executing, so nobody else writes it now.
            ctx = OpContext(session, requester)
            if error is None:
                assert result is not None
                op.record(ctx, plan, result)
                outcome = {"status": ActionStatus.SUCCEEDED, "result": result}
            else:
                op.release(ctx, plan, executed=True)
                outcome = {"status": ActionStatus.FAILED, "error": error}
            action = session.execute(
                update(Action)
                .where(Action.id == action_id)
                .values(**outcome, updated_at=utcnow())
                .returning(Action)
            ).scalar_one()
            audit(session, action, "platform", result=result if error is None else {"error": error})
            return ActionView.of(action)

    def get(self, action_id: int) -> ActionView:
        with self._sessions() as session:
            action = session.get(Action, action_id)
            if action is None:
                raise NotFound(f"action {action_id} not found")
            return ActionView.of(action)

    # -- helpers -------------------------------------------------------------------------

    @staticmethod
    def _by_key(session: Session, principal: Principal, key: str) -> Action | None:
        return session.scalar(
            select(Action).where(Action.requested_by == principal.id, Action.idempotency_key == key)
        )

    @staticmethod
    def _replay(existing: Action, kind: str, params: dict[str, Any]) -> ActionView:
        if existing.operation != kind or existing.params != params:
            raise Conflict(
                f"idempotency key {existing.idempotency_key!r} was already used for a different "
                f"request (action {existing.id}, {existing.operation}): use a new key"
            )
        return ActionView.of(existing).model_copy(update={"replayed": True})

    @staticmethod
    def _rebuild(action: Action) -> tuple[Operation, ActionPlan]:
        return build_operation(action.operation, action.params), ActionPlan.model_validate(
            action.plan
        )

    @staticmethod
    def _decidable(session: Session, principal: Principal, action_id: int) -> Action:
        action = session.get(Action, action_id, with_for_update=True)
        scope = None if action is None else scope_of(session, principal, action.org_id)
        if action is None or scope is None:
            raise NotFound(f"action {action_id} not found")
        scope.authorize("action.approve")
        if action.status != ActionStatus.PENDING:
            raise Conflict(
                f"action {action_id} is already {action.status}; only pending actions can be decided"
            )
        return action
