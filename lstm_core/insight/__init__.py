"""What a run tells: error analysis, attribution, gates, estimates, exports."""
