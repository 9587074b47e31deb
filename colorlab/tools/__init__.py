"""Development and deploy tooling (docs blocks, the app server, the Space). Not shipped in the Space."""
