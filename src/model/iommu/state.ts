// The state the IOMMU drivers keep of their own (plain data, in the model's state).

/**
 * The driver-private state of a device, where a driver keeps one (the
 * selftest's struct mock_dev: its PASID 1024 fault injection and fake device
 * cache). iommufd keeps it with the bound device and hands it to the ops.
 */
export interface MockDeviceData {
  /** mock_dev.pasid_1024_fake_error: set_dev_pasid of PASID 1024 fails every second time. */
  pasid1024: boolean;
  /** mock_dev.cache: MOCK_DEV_CACHE_NUM fake device-cache entries. */
  cache: number[];
}
