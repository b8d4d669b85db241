// Volumes
