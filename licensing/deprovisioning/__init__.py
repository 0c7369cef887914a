"""Deprovisioning: taking back, at every connected system, what an ended contract granted."""
