"""The case kernel: what every module shares. Workflows as data and the one `apply` that carries out a step,
approval chains, the timeline, module manifests and the module switch."""
