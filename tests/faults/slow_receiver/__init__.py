"""A host's receiver of the app's signals that takes a minute, installed in the fault tests' worker processes."""
