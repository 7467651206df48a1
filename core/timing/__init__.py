"""Generation timing: learned duration distributions, the poll schedule and the progress model."""
