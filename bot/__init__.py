"""The running bot: settings, storage, the turn pipeline, the web server and the CLI."""
