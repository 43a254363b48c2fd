"""The console's pages, one file per area; each handler names the permission action of the API route it mirrors."""
