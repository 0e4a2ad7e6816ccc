// The source patch `setup:native` applies to tfjs-node's binding (4.22.0) before building it.
//
// What it adds, and why (docs/performance.md, "The native binding"):
// - list-valued string and type attributes (TFE_OpSetAttrStringList / TypeList), so ops such as
//   oneDNN's fused convolution (fused_ops, TArgs) can be called at all;
// - AUTOGAN_TFE_ASYNC=1: TensorFlow's eager context in async mode, so kernels run on TensorFlow's
//   executor thread while JavaScript builds the next ops. tfjs asks every output's shape right
//   after each op, which in async mode would wait for the kernel: output shapes come from
//   TensorFlow's shape functions instead (TFE_InferShapes), input shapes from a per-tensor record.
//   Tensors made from JavaScript arrays own a copy of the data in that mode (TensorFlow may release
//   them on its own thread, where the V8 reference of a shared buffer must not be touched), and an
//   error clears the executor's error state once reported, so the next op is not refused.
// Every edit is anchored on the pinned version's text; a missing anchor stops the setup (a newer
// tfjs-node needs the patch re-checked), and a patched file is recognised by its marker.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Bumped with every change to the edits below: the installed binding records it. */
export const BINDING_PATCH_ID = 'autogan-binding-1';

interface Edit {
  file: string;
  /** Text of the pinned version, present exactly once. */
  find: string;
  replace: string;
}

const API = `#include "tfjs_backend.h"

// ${BINDING_PATCH_ID}: TensorFlow's experimental C API, which libtensorflow exports (the tarball
// ships no header for it).
extern "C" {
typedef struct TF_ShapeAndType {
  int num_dims;
  int64_t *dims;
  TF_DataType dtype;
} TF_ShapeAndType;
typedef struct TF_ShapeAndTypeList {
  int num_items;
  TF_ShapeAndType *items;
} TF_ShapeAndTypeList;
TF_ShapeAndTypeList *TF_NewShapeAndTypeList(int num_shapes);
void TF_ShapeAndTypeListSetShape(TF_ShapeAndTypeList *shape_list, int index,
                                 const int64_t *dims, int num_dims);
void TF_DeleteShapeAndTypeList(TF_ShapeAndTypeList *shape_list);
void TFE_InferShapes(TFE_Op *op, TF_ShapeAndTypeList *input_shapes,
                     TF_Tensor **input_tensors,
                     TF_ShapeAndTypeList *input_tensor_as_shapes,
                     TF_ShapeAndTypeList **input_resource_shapes_and_types,
                     TF_ShapeAndTypeList **output_shapes,
                     TF_ShapeAndTypeList ***output_resource_shapes_and_types,
                     TF_Status *status);
typedef struct TFE_Executor TFE_Executor;
TFE_Executor *TFE_ContextGetExecutorForThread(TFE_Context *ctx);
void TFE_ExecutorClearError(TFE_Executor *executor);
void TFE_DeleteExecutor(TFE_Executor *executor);
}

// With an async executor a tensor may be released on TensorFlow's thread, where the V8 reference
// of a shared buffer must not be touched: tensors made from JavaScript arrays then own a copy.
static bool copy_js_memory = false;
`;

/** Reads a JS array attribute value element by element (the lists the binding lacked). */
const LIST_LOOP = (decl: string, read: string) => `        uint32_t length;
        nstatus = napi_get_array_length(env, js_value, &length);
        ENSURE_NAPI_OK(env, nstatus);
${decl}
        for (uint32_t i = 0; i < length; ++i) {
          napi_value element;
          nstatus = napi_get_element(env, js_value, i, &element);
          ENSURE_NAPI_OK(env, nstatus);
${read}
        }`;

const HELPERS = `// ${BINDING_PATCH_ID}: the CPU kernels of train-mode batch norm leave their last reserve outputs
// empty, a shape their shape functions leave unknown.
static bool IsEmptyReserveOutput(TFE_Op *op, int index) {
  TF_AutoStatus st;
  const char *name = TFE_OpGetName(op, st.status);
  if (TF_GetCode(st.status) != TF_OK || name == nullptr) return false;
  return (strcmp(name, "FusedBatchNormV3") == 0 && index == 5) ||
         (strcmp(name, "FusedBatchNormGradV3") == 0 && (index == 3 || index == 4));
}

// A known shape for an input handle: recorded, or read (which waits for its kernel).
bool TFJSBackend::HandleShape(int32_t id, TFE_TensorHandle *handle,
                              std::vector<int64_t> *dims) {
  auto known = shape_map_.find(id);
  if (known != shape_map_.end()) {
    *dims = known->second;
    return true;
  }
  TF_AutoStatus st;
  int n = TFE_TensorHandleNumDims(handle, st.status);
  if (TF_GetCode(st.status) != TF_OK || n < 0) return false;
  dims->assign(n, 0);
  for (int i = 0; i < n; i++) (*dims)[i] = TFE_TensorHandleDim(handle, i, st.status);
  if (TF_GetCode(st.status) != TF_OK) return false;
  shape_map_[id] = *dims;
  return true;
}

// The op's output shapes by TensorFlow's shape functions, or none (the caller then reads them from
// the handles, which waits for the kernel). Small int32 inputs (shapes, axes, sizes) go by value,
// as shape functions need them.
void TFJSBackend::InferOutputShapes(napi_env env, TFE_Op *op, napi_value input_ids,
                                    int32_t num_outputs,
                                    std::vector<std::vector<int64_t>> *out) {
  uint32_t n;
  if (napi_get_array_length(env, input_ids, &n) != napi_ok) return;
  TF_ShapeAndTypeList *in_shapes = TF_NewShapeAndTypeList(n);
  std::vector<TF_Tensor *> values(n, nullptr);
  bool ok = true;
  for (uint32_t i = 0; i < n && ok; i++) {
    napi_value v;
    int32_t id;
    if (napi_get_element(env, input_ids, i, &v) != napi_ok ||
        napi_get_value_int32(env, v, &id) != napi_ok) {
      ok = false;
      break;
    }
    auto entry = tfe_handle_map_.find(id);
    std::vector<int64_t> dims;
    if (entry == tfe_handle_map_.end() || !HandleShape(id, entry->second, &dims)) {
      ok = false;
      break;
    }
    TF_ShapeAndTypeListSetShape(in_shapes, i, dims.data(), dims.size());
    int64_t count = 1;
    for (int64_t d : dims) count *= d;
    if (TFE_TensorHandleDataType(entry->second) == TF_INT32 && count <= 64) {
      TF_AutoStatus st;
      values[i] = TFE_TensorHandleResolve(entry->second, st.status);
      if (TF_GetCode(st.status) != TF_OK) values[i] = nullptr;
    }
  }
  TF_ShapeAndTypeList *out_shapes = nullptr;
  if (ok) {
    TF_AutoStatus st;
    TFE_InferShapes(op, in_shapes, values.data(), nullptr, nullptr, &out_shapes, nullptr,
                    st.status);
    ok = TF_GetCode(st.status) == TF_OK && out_shapes != nullptr &&
         out_shapes->num_items == num_outputs;
    for (int k = 0; ok && k < num_outputs; k++) {
      const TF_ShapeAndType &item = out_shapes->items[k];
      if (item.num_dims < 0 && IsEmptyReserveOutput(op, k)) continue;
      if (item.num_dims < 0) ok = false;
      for (int d = 0; ok && d < item.num_dims; d++)
        if (item.dims[d] < 0) ok = false;
    }
    if (ok) {
      out->resize(num_outputs);
      for (int k = 0; k < num_outputs; k++) {
        const TF_ShapeAndType &item = out_shapes->items[k];
        if (item.num_dims < 0)
          (*out)[k] = {0};
        else
          (*out)[k].assign(item.dims, item.dims + item.num_dims);
      }
    }
  }
  for (TF_Tensor *t : values)
    if (t != nullptr) TF_DeleteTensor(t);
  TF_DeleteShapeAndTypeList(in_shapes);
  if (out_shapes != nullptr) TF_DeleteShapeAndTypeList(out_shapes);
}

// An async executor that saw an error refuses every later op until it is cleared.
void TFJSBackend::ClearAsyncError() {
  TFE_Executor *executor = TFE_ContextGetExecutorForThread(tfe_context_);
  TFE_ExecutorClearError(executor);
  TFE_DeleteExecutor(executor);
}

/* Helper function to generate TensorInfo(used for JavaScript) from`;

const CC = 'binding/tfjs_backend.cc';
const H = 'binding/tfjs_backend.h';

const EDITS: Edit[] = [
  { file: CC, find: '#include "tfjs_backend.h"\n', replace: API },
  {
    file: CC,
    find: `    case TF_ATTR_STRING: {
`,
    replace: `    case TF_ATTR_STRING: {
      if (IsArray(env, nstatus, &js_value)) {
${LIST_LOOP(
  `        std::vector<std::string> strings(length);
        std::vector<const void *> values(length);
        std::vector<size_t> lengths(length);`,
  `          nstatus = GetStringParam(env, element, strings[i]);
          ENSURE_NAPI_OK(env, nstatus);
          values[i] = strings[i].data();
          lengths[i] = strings[i].size();`,
)}
        TFE_OpSetAttrStringList(tfe_op, attr_name, values.data(),
                                lengths.data(), static_cast<int>(length));
        break;
      }
`,
  },
  {
    file: CC,
    find: `    case TF_ATTR_TYPE: {
`,
    replace: `    case TF_ATTR_TYPE: {
      if (IsArray(env, nstatus, &js_value)) {
${LIST_LOOP(
  `        std::vector<TF_DataType> types(length);`,
  `          nstatus = napi_get_value_int32(
              env, element, reinterpret_cast<int32_t *>(&types[i]));
          ENSURE_NAPI_OK(env, nstatus);`,
)}
        TFE_OpSetAttrTypeList(tfe_op, attr_name, types.data(),
                              static_cast<int>(length));
        break;
      }
`,
  },
  {
    file: CC,
    find: `  // Sharing V8 memory with the underlying TensorFlow tensor requires adding an
  // additional refcount.`,
    replace: `  if (copy_js_memory) {
    const size_t copy_size =
        dtype == TF_INT64 ? num_elements * width * 2 : num_elements * width;
    TF_AutoTensor copied(TF_AllocateTensor(dtype, shape, shape_length, copy_size));
    if (copy_size > 0) memcpy(TF_TensorData(copied.tensor), array_data, copy_size);
    TF_AutoStatus copy_status;
    TFE_TensorHandle *copy_handle = TFE_NewTensorHandle(copied.tensor, copy_status.status);
    ENSURE_TF_OK_RETVAL(env, copy_status, nullptr);
    return copy_handle;
  }

  // Sharing V8 memory with the underlying TensorFlow tensor requires adding an
  // additional refcount.`,
  },
  {
    file: CC,
    find: `  TFE_ContextOptions *tfe_options = TFE_NewContextOptions();
`,
    replace: `  TFE_ContextOptions *tfe_options = TFE_NewContextOptions();
  {
    const char *async_env = getenv("AUTOGAN_TFE_ASYNC");
    is_async = async_env != nullptr && strcmp(async_env, "1") == 0;
    if (is_async) TFE_ContextOptionsSetAsync(tfe_options, 1);
    copy_js_memory = copy_js_memory || is_async;
  }
`,
  },
  {
    file: CC,
    find: `  napi_value output_tensor_id;
  nstatus = napi_create_int32(env, InsertHandle(tfe_handle), &output_tensor_id);`,
    replace: `  napi_value output_tensor_id;
  const int32_t created_id = InsertHandle(tfe_handle);
  // Known here; asking the handle would wait for the queued copy to the device.
  if (is_async) shape_map_[created_id] = shape_vector;
  nstatus = napi_create_int32(env, created_id, &output_tensor_id);`,
  },
  {
    file: CC,
    find: `  TFE_DeleteTensorHandle(tensor_entry->second);
  tfe_handle_map_.erase(tensor_entry);
`,
    replace: `  TFE_DeleteTensorHandle(tensor_entry->second);
  tfe_handle_map_.erase(tensor_entry);
  shape_map_.erase(tensor_id);
`,
  },
  {
    file: CC,
    find: `  napi_value js_value;
  CopyTFE_TensorHandleDataToJSData(env, tfe_context_, tensor_entry->second,
                                   &js_value);
`,
    replace: `  napi_value js_value;
  CopyTFE_TensorHandleDataToJSData(env, tfe_context_, tensor_entry->second,
                                   &js_value);
  if (is_async && IsExceptionPending(env)) ClearAsyncError();
`,
  },
  {
    file: CC,
    find: `  // Push \`nullptr\` to get a valid pointer in the call to \`TFE_Execute()\`
  // below.
  std::vector<TFE_TensorHandle *> result_handles(num_outputs, nullptr);

  int size = result_handles.size();
  TFE_Execute(tfe_op.op, result_handles.data(), &size, tf_status.status);
`,
    replace: `  // In async mode the outputs' shapes come from shape inference, so that reading them does not
  // wait for the kernel.
  std::vector<std::vector<int64_t>> inferred;
  if (is_async) InferOutputShapes(env, tfe_op.op, input_tensor_ids, num_outputs, &inferred);

  // Push \`nullptr\` to get a valid pointer in the call to \`TFE_Execute()\`
  // below.
  std::vector<TFE_TensorHandle *> result_handles(num_outputs, nullptr);

  int size = result_handles.size();
  TFE_Execute(tfe_op.op, result_handles.data(), &size, tf_status.status);
  if (is_async && TF_GetCode(tf_status.status) != TF_OK) ClearAsyncError();
`,
  },
  {
    file: CC,
    find: `    napi_value tensor_info_value = GenerateOutputTensorInfo(env, handle);`,
    replace: `    napi_value tensor_info_value = GenerateOutputTensorInfo(
        env, handle, inferred.empty() ? nullptr : &inferred[i]);`,
  },
  { file: CC, find: `/* Helper function to generate TensorInfo(used for JavaScript) from`, replace: HELPERS },
  {
    file: CC,
    find: `napi_value TFJSBackend::GenerateOutputTensorInfo(napi_env env,
                                                 TFE_TensorHandle *handle) {`,
    replace: `napi_value TFJSBackend::GenerateOutputTensorInfo(
    napi_env env, TFE_TensorHandle *handle, const std::vector<int64_t> *shape) {`,
  },
  {
    file: CC,
    find: `  nstatus =
      napi_create_int32(env, InsertHandle(handle), &output_tensor_id_value);`,
    replace: `  const int32_t output_id = InsertHandle(handle);
  nstatus = napi_create_int32(env, output_id, &output_tensor_id_value);`,
  },
  {
    file: CC,
    find: `  napi_value shape_value;
  GetTFE_TensorHandleShape(env, handle, &shape_value);
`,
    replace: `  napi_value shape_value;
  if (shape != nullptr) {
    nstatus = napi_create_array_with_length(env, shape->size(), &shape_value);
    ENSURE_NAPI_OK_RETVAL(env, nstatus, nullptr);
    for (size_t i = 0; i < shape->size(); i++) {
      napi_value dim;
      nstatus = napi_create_int64(env, (*shape)[i], &dim);
      ENSURE_NAPI_OK_RETVAL(env, nstatus, nullptr);
      nstatus = napi_set_element(env, shape_value, i, dim);
      ENSURE_NAPI_OK_RETVAL(env, nstatus, nullptr);
    }
    shape_map_[output_id] = *shape;
  } else {
    GetTFE_TensorHandleShape(env, handle, &shape_value);
    std::vector<int64_t> dims;
    if (is_async && !IsExceptionPending(env)) HandleShape(output_id, handle, &dims);
  }
`,
  },
  { file: H, find: '#include <unordered_map>\n', replace: '#include <unordered_map>\n#include <vector>\n' },
  {
    file: H,
    find: `  napi_value GenerateOutputTensorInfo(napi_env env, TFE_TensorHandle *handle);`,
    replace: `  napi_value GenerateOutputTensorInfo(napi_env env, TFE_TensorHandle *handle,
                                      const std::vector<int64_t> *shape = nullptr);
  bool HandleShape(int32_t id, TFE_TensorHandle *handle, std::vector<int64_t> *dims);
  void InferOutputShapes(napi_env env, TFE_Op *op, napi_value input_ids, int32_t num_outputs,
                         std::vector<std::vector<int64_t>> *out);
  void ClearAsyncError();
  // ${BINDING_PATCH_ID}: output shapes of async ops, by tensor id.
  std::unordered_map<int32_t, std::vector<int64_t>> shape_map_;
  bool is_async = false;`,
  },
];

export class BindingPatchError extends Error {}

/**
 * Applies the edits to a tfjs-node package's binding sources. Returns false when they are in place
 * already (the marker is there). Files are written whole and renamed, so a failure leaves the
 * pristine sources.
 */
export function patchBindingSources(packageDir: string): boolean {
  const files = [...new Set(EDITS.map((e) => e.file))];
  const texts = new Map(files.map((f) => [f, fs.readFileSync(path.join(packageDir, f), 'utf8')]));
  if ([...texts.values()].every((t) => t.includes(BINDING_PATCH_ID))) return false;
  if ([...texts.values()].some((t) => t.includes('autogan-binding-')))
    throw new BindingPatchError(
      `${packageDir}/binding carries another version of this project's patch: reinstall the package (npm run setup:native -- --force)`,
    );
  for (const e of EDITS) {
    const text = texts.get(e.file)!;
    const at = text.indexOf(e.find);
    if (at < 0 || text.indexOf(e.find, at + 1) >= 0)
      throw new BindingPatchError(
        `${e.file}: expected text ${at < 0 ? 'not found' : 'found more than once'} (${JSON.stringify(e.find.split('\n')[0])}); is this tfjs-node 4.22.0?`,
      );
    texts.set(e.file, text.slice(0, at) + e.replace + text.slice(at + e.find.length));
  }
  for (const [f, text] of texts) {
    const dest = path.join(packageDir, f);
    const tmp = `${dest}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, dest);
  }
  return true;
}
