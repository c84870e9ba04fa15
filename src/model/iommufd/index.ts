// The iommufd model: importing this registers its file hooks, command handlers
// and object kinds.
import "./main.ts";
import "./ioas.ts";
