"""The local sandbox: the real bot and worker against the local Bot API server, with a
chat page in the browser where a person plays any member of the loaded plan."""
