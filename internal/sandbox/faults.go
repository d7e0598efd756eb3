package sandbox

// Faults is the switchboard of failures that tests turn on.
type Faults struct{}
