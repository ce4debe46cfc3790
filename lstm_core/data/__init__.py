"""Reading people's files faithfully and turning texts into token sequences."""
