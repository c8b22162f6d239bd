"""The actor / outlet / infrastructure graph: built incrementally from stored items, persisted in the
store, analysed on subgraphs with igraph and NetworkX. See docs/graph.md."""
