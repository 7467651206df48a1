"""Operational seams: the telemetry observer the pipeline and the edges report to, and job history."""
