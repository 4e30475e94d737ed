"""The database: SQLAlchemy models, queries and Alembic migrations."""
