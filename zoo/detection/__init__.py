"""Object detection as points (CenterNet): dense targets, the loss, decoding, and COCO metrics."""
