"""Task-independent metrics (detection AP, COCO mAP, classification accuracy)."""
