// Backbones
