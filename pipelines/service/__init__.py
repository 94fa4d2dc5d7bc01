"""The alert service: risk alerts pushed to every center, and the closed loop from dispatch to closure.

A web service (FastAPI under uvicorn) started by ``zongzhi infra up``: it
follows the alerts topic into PostgreSQL, routes each alert to its centers
by the jurisdiction policy, pushes it to the live pages allowed to see it,
and keeps the work orders and their audit trail. See docs/alert-service.md.
"""
