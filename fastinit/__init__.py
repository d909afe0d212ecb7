"""fastinit: neural-network weight initializers for very large arrays."""
