// The iommufd model: importing this registers its file hooks, command handlers
// and object kinds.
import "./main.ts";
import "./ioas.ts";
import "./ioas_file.ts";
import "./option.ts";
import "./vfio_ioas.ts";
import "./get_pa.ts";
import "./hw_pagetable.ts";
import "./device.ts";
import "./hw_info.ts";
import "./viommu.ts";
import "./eventq.ts";
