//! Workspace-level end-to-end tests for frameio-auth; the tests live in `tests/tests/`.
