"""One package per operation kind: its request, its planned steps and the handler that runs it.
Handlers get a fully resolved request and an OperationContext; they know no HTTP and no dialect."""
