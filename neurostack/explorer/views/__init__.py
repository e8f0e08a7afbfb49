"""The explorer's pages, one ``APIRouter`` per area."""
