"""基层政务公开事项标准目录 / base-level government disclosure standard catalogue service."""
