"""Persistence of an environment's content: schema, migrations, repositories. SQL lives here
and nowhere above."""
