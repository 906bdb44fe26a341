"""Models by name: `ngc://`, `torchvision://` and `https://` sources fetched into a cache (standard library HTTP)."""
