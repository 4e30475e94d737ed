"""Understanding residents' text: segmentation, classification, urgency, masking, FAQ, similarity."""
