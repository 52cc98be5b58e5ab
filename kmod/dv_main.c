// SPDX-License-Identifier: GPL-2.0
/*
 * DuVisor DV-Ext control plane: /dev/duvisor, VMs and VMIDs.
 *
 * See docs/dvext-kmod.md.  Every ioctl treats user space as hostile:
 * arguments are copied once, checked against fixed bounds, and nothing
 * returned is a kernel address.
 */
#define pr_fmt(fmt) "duvisor: " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/csr.h>
#include <asm/hwcap.h>
#include "dv.h"

static char *mode = "auto";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "auto, trap (H extension only) or dvext");

static unsigned int max_vms = 64;
module_param(max_vms, uint, 0444);
MODULE_PARM_DESC(max_vms, "VMs at once, all users together");

unsigned int dv_max_vcpus = 256;
module_param_named(max_vcpus, dv_max_vcpus, uint, 0444);
MODULE_PARM_DESC(max_vcpus, "vCPUs per VM (1..1024)");

unsigned int dv_max_regions = 16;
module_param_named(max_regions, dv_max_regions, uint, 0444);
MODULE_PARM_DESC(max_regions, "memory regions per VM (1..256)");

static unsigned int max_guest_mb = 1024;
module_param(max_guest_mb, uint, 0444);
MODULE_PARM_DESC(max_guest_mb, "pinned guest memory per VM, MiB");

int dv_mode;
u32 dv_vmid_bits;
unsigned long dv_max_guest_bytes;

static u32 vmid_first, vmid_last;
static DEFINE_IDA(vmid_ida);
static atomic_t nr_vms = ATOMIC_INIT(0);

/*
 * VMIDs: KVM (built in here) hands out VMIDs from 1 upwards and only
 * reaches the top half after thousands of VMs, so we take ours from the
 * top half.  That makes collisions rare, not impossible, so the vCPU
 * preempt notifiers also flush our VMID when a vCPU thread arrives on or
 * leaves a hart (dv_vcpu.c): G-stage TLB entries of one VMID never meet
 * another hypervisor's guest, and we still never need a full fence.
 * Without at least 2 VMID bits every VM shares VMID 0 and flushes are
 * full ones.
 */
static void dv_vmid_detect(void)
{
	unsigned long old, bits;

	preempt_disable();
	old = csr_read(CSR_HGATP);
	csr_write(CSR_HGATP, old | HGATP_VMID_MASK);
	bits = (csr_read(CSR_HGATP) & HGATP_VMID_MASK) >> HGATP_VMID_SHIFT;
	csr_write(CSR_HGATP, old);
	preempt_enable();
	dv_vmid_bits = fls_long(bits);
	if (dv_vmid_bits < 2) {
		dv_vmid_bits = 0;
		vmid_first = 0;
		vmid_last = 0;
		return;
	}
	vmid_first = 1U << (dv_vmid_bits - 1);
	vmid_last = (1U << dv_vmid_bits) - 1;
}

static int dv_vmid_alloc(u32 *vmid)
{
	int id;

	if (!dv_vmid_bits) {
		*vmid = 0;
		return 0;
	}
	id = ida_alloc_range(&vmid_ida, vmid_first, vmid_last, GFP_KERNEL);
	if (id < 0)
		return id;
	*vmid = id;
	return 0;
}

/*
 * Every translation of one VM on this hart: the G-stage ones, and the
 * VS-stage ones, which hfence.gvma need not reach.  hfence.vvma takes
 * its VMID from hgatp, so the VM's is put there for the moment.
 */
void dv_flush_vm_local(struct dv_vm *vm)
{
	unsigned long vmid = vm->vmid, hgatp;

	hgatp = csr_swap(CSR_HGATP, vm->hgatp);
	/* hfence.vvma zero, zero (funct7 0x11) */
	asm volatile(".insn r 0x73, 0, 0x11, x0, x0, x0" : : : "memory");
	csr_write(CSR_HGATP, hgatp);
	/* hfence.gvma zero, vmid (funct7 0x31): every address of one VMID. */
	if (dv_vmid_bits)
		asm volatile(".insn r 0x73, 0, 0x31, x0, x0, %0"
			     : : "r" (vmid) : "memory");
	else
		asm volatile(".insn r 0x73, 0, 0x31, x0, x0, x0" : : : "memory");
}

static void dv_flush_vm_ipi(void *vm)
{
	dv_flush_vm_local(vm);
}

void dv_flush_vm_everywhere(struct dv_vm *vm)
{
	on_each_cpu(dv_flush_vm_ipi, vm, 1);
}

static void dv_vm_free(struct kref *ref)
{
	struct dv_vm *vm = container_of(ref, struct dv_vm, ref);

	/*
	 * Before the pages go back and the VMID is reused, no hart may keep
	 * a translation of this VM.
	 */
	dv_flush_vm_everywhere(vm);
	dv_regions_release(vm);
	dv_gstage_free(vm);
	if (dv_vmid_bits)
		ida_free(&vmid_ida, vm->vmid);
	mmdrop(vm->mm);
	xa_destroy(&vm->vcpus);
	kfree(vm->regions);
	kfree(vm);
	atomic_dec(&nr_vms);
	module_put(THIS_MODULE);
}

void dv_vm_put(struct dv_vm *vm)
{
	kref_put(&vm->ref, dv_vm_free);
}

static int dv_vm_release(struct inode *inode, struct file *file)
{
	dv_vm_put(file->private_data);
	return 0;
}

static long dv_request_deleg(struct dv_vm *vm, void __user *argp)
{
	struct duvisor_deleg d;

	if (copy_from_user(&d, argp, sizeof(d)))
		return -EFAULT;
	if (d.edeleg & ~DUVISOR_EDELEG_ALLOWED ||
	    d.ideleg & ~DUVISOR_IDELEG_ALLOWED)
		return -EINVAL;
	mutex_lock(&vm->lock);
	/*
	 * Registered threads pick the sets up at their next sched_in; a
	 * change under running vCPUs would race with them, so it is refused.
	 */
	if (vm->nr_vcpus) {
		mutex_unlock(&vm->lock);
		return -EBUSY;
	}
	vm->edeleg = d.edeleg;
	vm->ideleg = d.ideleg;
	mutex_unlock(&vm->lock);
	return 0;
}

static long dv_vm_info(struct dv_vm *vm, void __user *argp)
{
	struct duvisor_vm_info info;

	memset(&info, 0, sizeof(info));
	mutex_lock(&vm->lock);
	info.vmid = vm->vmid;
	info.nr_vcpus = vm->nr_vcpus;
	info.guest_bytes = vm->guest_bytes;
	info.nr_regions = vm->nr_regions;
	mutex_unlock(&vm->lock);
	return copy_to_user(argp, &info, sizeof(info)) ? -EFAULT : 0;
}

static long dv_vm_ioctl(struct file *file, unsigned int cmd,
			unsigned long arg)
{
	struct dv_vm *vm = file->private_data;
	void __user *argp = (void __user *)arg;
	struct duvisor_memory_region r;

	/* The VM's memory accounting belongs to its creator's mm. */
	if (current->mm != vm->mm)
		return -EPERM;
	switch (cmd) {
	case DUVISOR_SET_MEMORY_REGION:
		if (copy_from_user(&r, argp, sizeof(r)))
			return -EFAULT;
		return dv_set_memory_region(vm, &r);
	case DUVISOR_REQUEST_DELEG:
		return dv_request_deleg(vm, argp);
	case DUVISOR_GET_VM_INFO:
		return dv_vm_info(vm, argp);
	case DUVISOR_CREATE_VCPU:
		return dv_create_vcpu(vm, arg);
	case DUVISOR_REMOTE_FENCE:
		return dv_remote_fence(vm, argp);
	}
	return -ENOTTY;
}

static const struct file_operations dv_vm_fops = {
	.owner = THIS_MODULE,
	.release = dv_vm_release,
	.unlocked_ioctl = dv_vm_ioctl,
	.llseek = noop_llseek,
};

static int dv_create_vm(void)
{
	struct dv_vm *vm;
	int ret;

	if (atomic_inc_return(&nr_vms) > max_vms) {
		atomic_dec(&nr_vms);
		return -ENOSPC;
	}
	ret = -ENOMEM;
	vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm)
		goto err_count;
	vm->regions = kcalloc(dv_max_regions, sizeof(*vm->regions),
			      GFP_KERNEL_ACCOUNT);
	if (!vm->regions)
		goto err_vm;
	kref_init(&vm->ref);
	mutex_init(&vm->lock);
	xa_init(&vm->vcpus);
	ret = dv_vmid_alloc(&vm->vmid);
	if (ret)
		goto err_regions;
	ret = dv_gstage_init(vm);
	if (ret)
		goto err_vmid;
	vm->mm = current->mm;
	mmgrab(vm->mm);
	/* Dropped by dv_vm_free: vCPUs keep the VM, and the VM the module. */
	__module_get(THIS_MODULE);
	ret = anon_inode_getfd("duvisor-vm", &dv_vm_fops, vm, O_RDWR | O_CLOEXEC);
	if (ret < 0)
		dv_vm_put(vm);
	return ret;

err_vmid:
	if (dv_vmid_bits)
		ida_free(&vmid_ida, vm->vmid);
err_regions:
	kfree(vm->regions);
err_vm:
	kfree(vm);
err_count:
	atomic_dec(&nr_vms);
	return ret;
}

static long dv_get_info(void __user *argp)
{
	struct duvisor_info info;

	memset(&info, 0, sizeof(info));
	info.mode = dv_mode;
	info.vmid_bits = dv_vmid_bits;
	info.vmid_first = vmid_first;
	info.vmid_last = vmid_last;
	info.max_vcpus = dv_max_vcpus;
	info.max_regions = dv_max_regions;
	info.max_guest_bytes = dv_max_guest_bytes;
	info.gpa_limit = DV_GPA_LIMIT;
	info.edeleg_allowed = DUVISOR_EDELEG_ALLOWED;
	info.ideleg_allowed = DUVISOR_IDELEG_ALLOWED;
	info.run_size = DUVISOR_RUN_SIZE;
	/* DV-Ext VMMs enter the guest themselves: nothing runs at entry. */
	if (dv_mode == DUVISOR_MODE_TRAP)
		info.features = DUVISOR_FEATURE_REMOTE_FENCE |
				DUVISOR_FEATURE_INJECT_EXC;
	return copy_to_user(argp, &info, sizeof(info)) ? -EFAULT : 0;
}

static long dv_dev_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	switch (cmd) {
	case DUVISOR_GET_API_VERSION:
		return DUVISOR_API_VERSION;
	case DUVISOR_GET_INFO:
		return dv_get_info((void __user *)arg);
	case DUVISOR_CREATE_VM:
		if (arg)
			return -EINVAL;
		return dv_create_vm();
	}
	return -ENOTTY;
}

static const struct file_operations dv_dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = dv_dev_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice dv_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "duvisor",
	.fops = &dv_dev_fops,
	.mode = 0600,
};

static int __init dv_init(void)
{
	bool dvext;
	int ret;

	if (!riscv_isa_extension_available(NULL, h)) {
		pr_info("no H extension on this CPU\n");
		return -ENODEV;
	}
	if (dv_max_vcpus < 1 || dv_max_vcpus > 1024 ||
	    dv_max_regions < 1 || dv_max_regions > 256 ||
	    max_guest_mb < 1 || max_guest_mb > (1U << 20) || max_vms < 1)
		return -EINVAL;
	dv_max_guest_bytes = (unsigned long)max_guest_mb << 20;

	dvext = dv_dvext_probe();
	if (!strcmp(mode, "trap")) {
		dv_mode = DUVISOR_MODE_TRAP;
	} else if (!strcmp(mode, "dvext")) {
		if (!dvext) {
			pr_info("mode=dvext: this CPU has no DV-Ext\n");
			return -ENODEV;
		}
		dv_mode = DUVISOR_MODE_DVEXT;
	} else if (!strcmp(mode, "auto")) {
		dv_mode = dvext ? DUVISOR_MODE_DVEXT : DUVISOR_MODE_TRAP;
	} else {
		return -EINVAL;
	}

	dv_vmid_detect();

	ret = dv_vcpu_module_init();
	if (ret)
		return ret;
	ret = misc_register(&dv_misc);
	if (ret) {
		dv_vcpu_module_exit();
		return ret;
	}
	pr_info("%s mode, VMIDs %u-%u (%u bits), API %d\n",
		dv_mode == DUVISOR_MODE_DVEXT ? "DV-Ext" : "trap",
		vmid_first, vmid_last, dv_vmid_bits, DUVISOR_API_VERSION);
	return 0;
}

static void __exit dv_exit(void)
{
	misc_deregister(&dv_misc);
	dv_vcpu_module_exit();
	ida_destroy(&vmid_ida);
}

module_init(dv_init);
module_exit(dv_exit);
MODULE_DESCRIPTION("DuVisor DV-Ext control plane (trap mode on H-only CPUs)");
MODULE_LICENSE("GPL");
