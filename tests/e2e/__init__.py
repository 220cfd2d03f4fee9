"""The whole lifecycle of examples/quickstart against real servers on 127.0.0.1 (`make e2e`)."""
