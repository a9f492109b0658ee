"""FSM / disadvantage gap analyses: pupil-level data and published DfE files."""
