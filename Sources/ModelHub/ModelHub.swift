/// Finding models by name and downloading them (see `ModelCatalog`, `ModelLocator`, `Downloader`).
public enum ModelHub {}
