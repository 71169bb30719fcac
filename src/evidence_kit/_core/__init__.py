"""The bottom layer: argument and row checks, result formatting shared by every layer above."""
