"""Organisations and users, for the corridor administrator."""

from __future__ import annotations

from fastapi import APIRouter, status

from corridor.api.deps import AdminDep, SessionDep
from corridor.api.schemas import OrganisationCreate, OrganisationOut, UserCreate, UserOut
from corridor.store import accounts
from corridor.store.models import Organisation

router = APIRouter(prefix="/admin", tags=["admin"])


@router.post("/organisations", response_model=OrganisationOut, status_code=status.HTTP_201_CREATED)
def create_organisation(body: OrganisationCreate, s: SessionDep, _: AdminDep) -> OrganisationOut:
    org = accounts.create_organisation(s, body.name, body.kind, body.country)
    return OrganisationOut(id=org.id, name=org.name, kind=org.kind, country=org.country)


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, s: SessionDep, _: AdminDep) -> UserOut:
    user = accounts.create_user(s, body.organisation_id, body.email, body.name, body.password)
    org = s.get(Organisation, user.organisation_id)
    assert org is not None
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        organisation_id=org.id,
        organisation=org.name,
        kind=org.kind,
        country=org.country,
    )
