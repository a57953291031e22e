/*
 * Image service (Glance v2): images, their data (streamed through an ImageStore with
 * safety checks), tags, members, quotas. Every function taking an AuthContext enforces
 * its policy rule itself (rules registered by ./policy.ts on load).
 */
import './policy.ts';

export {
  IMAGE_STATUSES,
  VISIBILITIES,
  DISK_FORMATS,
  CONTAINER_FORMATS,
  MEMBER_STATUSES,
  Visibility,
  DiskFormat,
  ContainerFormat,
  MemberStatus,
  type ImageStatus,
  type Image,
  type ImageMember,
  type ImagePage,
} from './types.ts';
export { IMAGE_RULES, isImageAdmin } from './policy.ts';
export { canSeeImage, visibleImagesWhere, type Viewer, type VisibilityFilter } from './visibility.ts';
export { applyImagePatch, Patch, PatchOp, READ_ONLY, CORE_ATTRIBUTES, type ImageChanges } from './patch.ts';
export {
  checkHeader,
  checkImageFormat,
  inspectImageFile,
  qemuImgInfo,
  QEMU_IMG_LIMITS,
  type ImageInfo,
} from './inspect.ts';
export {
  FilesystemImageStore,
  imageStore,
  setImageStore,
  StoreError,
  type ImageStore,
  type StoredImage,
  type ImageHashAlgorithm,
  type PutOptions,
  type ByteRange,
} from './store.ts';
export {
  createImage,
  listImages,
  getImage,
  updateImage,
  deleteImage,
  deactivateImage,
  reactivateImage,
  addImageTag,
  removeImageTag,
  CreateImageInput,
  ListImagesInput,
  SORT_KEYS,
  SortKey,
  DEFAULT_PAGE_SIZE,
  MAX_TAGS,
} from './images.ts';
export {
  addImageMember,
  listImageMembers,
  getImageMember,
  updateImageMember,
  deleteImageMember,
  MAX_MEMBERS,
} from './members.ts';
export { sendImageData } from './read.ts';
export { FileRangeStream } from '../platform/file-range.ts';
export { uploadImageData, downloadImageData, type UploadInput, type UploadResult, type ImageDownload } from './data.ts';
export { getImageQuota, setImageQuota, type ImageQuota } from './quota.ts';
export { registerTestImage } from './seed.ts';
