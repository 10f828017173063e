import ArgumentParser
import VLSAEJobs
print("vlsae")
