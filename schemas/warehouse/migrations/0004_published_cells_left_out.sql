-- Migration 0004: the published-cell history also records the cells of slices the latest
-- publication left out (a small cell in them could not be protected). The next publication
-- keeps such a slice out while its counts are unchanged, as it keeps a hidden cell hidden:
-- showing it now would reveal what the earlier file withheld, and republishing unchanged
-- data gives the same file.
ALTER TABLE ops.published_cells ADD COLUMN IF NOT EXISTS is_left_out BOOLEAN DEFAULT false;
