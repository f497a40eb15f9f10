// NSIRuntime: contents arrive with the work on this module.
