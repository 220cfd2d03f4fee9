"""Stage 7, emit: write generated files safely and deterministically.

* :mod:`.manifest`: the ownership manifest (``.mlgitops/manifest.json``);
* :mod:`.plan`: what a compile would change on disk, refusing unsafe paths
  and files mlgitops does not own;
* :mod:`.transaction`: applying a plan so that an interrupted compile is
  rolled back (journal + backups), and recovery of such a compile;
* :mod:`.drift`: ``check``: differences between the tree and a fresh compile.
"""
