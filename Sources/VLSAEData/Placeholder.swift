import VLSAECore
