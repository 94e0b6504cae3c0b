"""The console's blueprints: auth (sign-in and out), conversations (list, transcript, review,
notes, export, dashboard), appointments (the request queue), admin (users, audit log)."""
