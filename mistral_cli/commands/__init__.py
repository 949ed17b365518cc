"""One module per API tag (and per local group): parse options, call api/, hand results to render/."""
