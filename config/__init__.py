"""Settings and logging set-up: the bottom layer every package may import (it imports nothing of ours)."""
