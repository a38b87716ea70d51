"""Our web apps, one package each: build_db, create_app, generate_tasks, check (see web/__init__)."""
