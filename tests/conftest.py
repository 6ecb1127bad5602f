import sys
from pathlib import Path

# Make the shared test helpers (``reference_models``) importable from every
# test sub-folder.
sys.path.insert(0, str(Path(__file__).parent))
