// replaced by the corpus loaders
