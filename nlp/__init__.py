"""Understanding residents' text: words, categories, urgency, masking, FAQ, similarity."""
